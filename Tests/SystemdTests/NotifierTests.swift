import Foundation
import Testing
@testable import Systemd

/// sd_notify against a real datagram socket, the way systemd listens on NOTIFY_SOCKET.
@Suite(.serialized) struct NotifierTests {
    @Test func sendsToNotifySocketAndIsSilentWithoutOne() throws {
        unsetenv("NOTIFY_SOCKET")
        #expect(Notifier().send("READY=1") == false)   // not under systemd: a no-op, not an error

        let path = NSTemporaryDirectory() + "/notify-\(getpid()).sock"
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd); unlink(path); unsetenv("NOTIFY_SOCKET") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            path.utf8CString.withUnsafeBytes { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(raw.count))) }
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        setenv("NOTIFY_SOCKET", path, 1)

        let n = Notifier()
        n.ready(status: "idle: s1 3.5.1 healthy\nfollower")
        n.watchdog()
        n.stopping()
        var got: [String] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<3 {
            let r = recv(fd, &buf, buf.count, 0)
            #expect(r > 0)
            got.append(String(decoding: buf[0..<max(0, r)], as: UTF8.self))
        }
        #expect(got == ["READY=1\nSTATUS=idle: s1 3.5.1 healthy follower", "WATCHDOG=1", "STOPPING=1"])
    }

    @Test func watchdogIntervalFollowsTheEnvironment() {
        setenv("WATCHDOG_USEC", "3000000", 1)
        setenv("WATCHDOG_PID", "\(getpid())", 1)
        defer { unsetenv("WATCHDOG_USEC"); unsetenv("WATCHDOG_PID") }
        #expect(Notifier().watchdogInterval() == .seconds(3))
        setenv("WATCHDOG_PID", "1", 1)   // meant for another process
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
    }
}
