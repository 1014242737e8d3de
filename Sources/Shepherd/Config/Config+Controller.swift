import EtcdClient
import Foundation
import Rollout

extension Config {
    /// `controller`: how the daemon stops, starts and asks about its member.
    public enum Controller: Sendable, Equatable {
        /// argv (no shell) to stop the member and wait for its process to exit, to start it, and optionally to ask
        /// whether it runs (exit 0 = running).
        case command(stop: [String], start: [String], status: [String]?)
        case systemd(unit: String)
    }

    static func controller(_ k: Reader) throws -> Controller {
        switch try k.string("kind") {
        case "command":
            try k.allow(["kind", "stop", "start", "status"])
            let stop = try k.stringArray("stop"), start = try k.stringArray("start")
            guard !stop.isEmpty else { throw Invalid(key: "controller.stop", problem: "needs a command (argv)") }
            guard !start.isEmpty else { throw Invalid(key: "controller.start", problem: "needs a command (argv)") }
            return .command(stop: stop, start: start, status: k.has("status") ? try k.stringArray("status") : nil)
        case "systemd":
            try k.allow(["kind", "unit"])
            let unit = try k.string("unit")
            guard unit.hasSuffix(".service") else {
                throw Invalid(key: "controller.unit", problem: "must name a .service unit")
            }
            return .systemd(unit: unit)
        case let other:
            throw Invalid(key: "controller.kind", problem: "'\(other)' is not one of command, systemd")
        }
    }
}
