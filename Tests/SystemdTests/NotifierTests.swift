import Foundation
import TestSupport
import Testing

@testable import Systemd

/// sd_notify against a real datagram socket, the way systemd listens on NOTIFY_SOCKET.
@Suite(.serialized) struct NotifierTests {
    @Test func sendsToNotifySocketAndIsSilentWithoutOne() async throws {
        unsetenv("NOTIFY_SOCKET")
        #expect(Notifier().send("READY=1") == false)  // not under systemd: a no-op, not an error

        try await NotifySocket.with(label: "unit") { socket in
            setenv("NOTIFY_SOCKET", socket.path, 1)
            defer { unsetenv("NOTIFY_SOCKET") }
            let n = Notifier()
            n.ready(status: "idle: s1 3.5.1 healthy\nfollower")
            n.watchdog()
            n.reloading()
            n.stopping()
            let got = (0..<4).compactMap { _ in socket.receive(timeout: .seconds(2)) }
            #expect(
                got == ["READY=1\nSTATUS=idle: s1 3.5.1 healthy follower", "WATCHDOG=1", "RELOADING=1", "STOPPING=1"])
        }
    }

    @Test func watchdogIntervalFollowsTheEnvironment() {
        setenv("WATCHDOG_USEC", "3000000", 1)
        setenv("WATCHDOG_PID", "\(getpid())", 1)
        defer {
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
        }
        #expect(Notifier().watchdogInterval() == .seconds(3))
        setenv("WATCHDOG_PID", "1", 1)  // meant for another process
        #expect(Notifier().watchdogInterval() == nil)
    }
}

@Suite struct JournalFieldTests {
    @Test func metadataKeysBecomeJournalFields() {
        #expect(JournalLogHandler.fieldName("etcd_member") == "ETCD_MEMBER")
        #expect(JournalLogHandler.fieldName("shepherd.rollout-id") == "SHEPHERD_ROLLOUT_ID")
        #expect(JournalLogHandler.fieldName("_private") == "PRIVATE")
        #expect(JournalLogHandler.priority(.critical) == 2)
        #expect(JournalLogHandler.priority(.notice) == 5)
        #expect(JournalLogHandler.priority(.debug) == 7)
    }

    @Test func messageIDsAreDistinct128BitIDs() {
        let ids = MessageID.allCases.map(\.rawValue)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
        // Random ids as `systemd-id128 new` makes them (sd-id128(3)): no two share a long prefix, as a counter's do.
        for (i, a) in ids.enumerated() {
            for b in ids[(i + 1)...] { #expect(a.prefix(8) != b.prefix(8), "\(a) and \(b) look sequential") }
        }
    }
}

/// The journald catalog the package installs explains every MESSAGE_ID the daemon sends, once, with a subject.
@Suite struct JournalCatalogTests {
    @Test func everyMessageIDHasOneCatalogEntry() throws {
        let text = try String(contentsOfFile: Repo.root + "/packaging/journald/etcd-shepherd.catalog", encoding: .utf8)
        let headers = text.split(separator: "\n").filter { $0.hasPrefix("-- ") }.map { String($0.dropFirst(3)) }
        #expect(headers.sorted() == MessageID.allCases.map(\.rawValue).sorted())
        for block in text.components(separatedBy: "\n-- ").dropFirst() {
            #expect(
                block.contains("\nSubject: ") && block.contains("\nDefined-By: etcd-shepherd"), "\(block.prefix(40))")
        }
    }
}
