import Foundation
import Testing

@testable import Rollout

@Suite struct NameTests {
    @Test func madeByTheIntakeReadBackAsWritten() throws {
        let id = RolloutID.new(unixSeconds: 1_764_990_000, suffix: 0xbeef)
        #expect(id.rawValue == "r1764990000-beef" && id.problem == nil)
        // On the wire the plain string records have always carried, not an object.
        let data = try JSONEncoder().encode([id])
        #expect(String(decoding: data, as: UTF8.self) == #"["r1764990000-beef"]"#)
        #expect(try JSONDecoder().decode([RolloutID].self, from: data) == [id])
    }

    /// Given by a person or read from etcd, an id that could become a path or move a terminal is refused.
    @Test func anUnsafeIdIsRefusedAtTheBoundary() {
        for bad in ["", "../etc", ".hidden", "a/b", "r1\u{1b}[2J", String(repeating: "r", count: 65)] {
            #expect(RolloutID(validating: bad) == nil, "\(bad)")
            #expect(RolloutID(bad).problem != nil, "\(bad)")
        }
        #expect(RolloutID(validating: "r1764990000-beef.h1") == RolloutID("r1764990000-beef.h1"))
    }

    /// A member's name keys its record and reads in a sentence as the string it is.
    @Test func memberNamesKeyRecordsAndReadAsText() throws {
        let names: [MemberName] = ["s2", "s10", "s1"]
        #expect(names.sorted().joined(separator: ", ") == "s1, s10, s2")
        let data = try JSONEncoder().encode(["s1": 1] as [MemberName: Int])
        #expect(String(decoding: data, as: UTF8.self) == #"{"s1":1}"#)
        #expect(try JSONDecoder().decode([MemberName: Int].self, from: data) == ["s1": 1])
        #expect(MemberName(validating: "etcd-0.example") != nil && MemberName(validating: "a b") == nil)
    }
}
