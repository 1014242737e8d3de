import ArgumentParser
import EtcdClient
import Foundation
import Logging
import Rollout
import ServiceLifecycle
import Shepherd
import Systemd

/// Exit codes, distinct per kind of failure (README "Exit codes").
enum Exit {
    static let ok: Int32 = 0
    /// Not healthy (status), blocked (plan/check), or the state forbids the change.
    static let notHealthy: Int32 = 1
    /// Usage or configuration error.
    static let usage: Int32 = 2
    /// The cluster could not be reached.
    static let unreachable: Int32 = 3
    /// The request is invalid: version, policy, binary, checksum.
    static let invalidRequest: Int32 = 4
    /// A policy file (policyDir) is invalid or would loosen the built-in policy.
    static let badPolicy: Int32 = 5
}

struct Failure: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    var description: String { message }
}

@main
struct EtcdShepherd: AsyncParsableCommand {
    static let version = "0.2.0"
    static let configuration = CommandConfiguration(
        commandName: "etcd-shepherd",
        abstract: "Rolling upgrades of etcd clusters, one member at a time.",
        version: version,
        subcommands: [
            Run.self, Status.self, Request.self, Plan.self, Check.self, Pause.self, Resume.self, Abort.self,
            ForgetMember.self, History.self,
            SaveSnapshot.self, Backups.self, PolicyCommand.self, ConfigCommand.self,
        ])

    /// Usage errors exit 2 (not argument-parser's 64); our own failures exit with their code; nothing escapes as a
    /// crash.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand { try await async.run() } else { try command.run() }
        } catch let f as Failure {
            FileHandle.standardError.write(Data("etcd-shepherd: \(f.message)\n".utf8))
            Foundation.exit(f.code)
        } catch let e as ExitCode {
            Foundation.exit(e.rawValue)
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(Exit.usage)
        }
    }
}

/// A cluster client for a config (its endpoints, TLS files and etcd credentials).
func withCluster<T: Sendable>(config: Config, _ body: (EtcdCluster) async throws -> T) async throws -> T {
    try await withCluster(urls: config.cluster.endpoints, transport: { try config.cluster.makeTransport() }, body)
}

/// A cluster client on `urls` over the transport `make` builds; the transport is shut down when `body` returns.
func withCluster<T: Sendable>(
    urls: [String], transport make: () throws -> Transport,
    _ body: (EtcdCluster) async throws -> T
) async throws -> T {
    let transport: Transport
    do { transport = try make() } catch { throw Failure(code: Exit.usage, message: "\(error)") }
    let cluster = EtcdCluster(urls: urls, transport: transport, timeout: .seconds(5))
    do {
        let r = try await body(cluster)
        try? await transport.shutdown()
        return r
    } catch let e as EtcdError {
        try? await transport.shutdown()
        throw Failure(code: Exit.unreachable, message: "\(e)")
    } catch {
        try? await transport.shutdown()
        throw error
    }
}

func makeLogger(_ label: String) -> Logger {
    var l = Logger(label: label) { JournalLogHandler(label: $0) }
    l.logLevel = ProcessInfo.processInfo.environment["SHEPHERD_DEBUG"] != nil ? .debug : .info
    return l
}
