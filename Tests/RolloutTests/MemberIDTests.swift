import Foundation
import Testing

@testable import Rollout

/// A member ID is parsed and printed in one place, in the hex etcdctl prints; records keep the string they always had.
@Suite struct MemberIDTests {
    @Test func hexInHexOut() {
        #expect(MemberID(0x8e9e_05c5_2164_694d).description == "8e9e05c52164694d")
        #expect(MemberID(hex: "8E9E05C52164694D") == MemberID(0x8e9e_05c5_2164_694d))
        #expect(MemberID(hex: "a") == 10)
        for bad in ["", "0x1a", "g", " 1a", "1a ", "-1", "1" + String(repeating: "0", count: 16)] {
            #expect(MemberID(hex: bad) == nil, "\(bad)")
        }
    }

    /// A record written before the type existed (`"memberID": "<hex>"`) reads the same and is written back the same.
    @Test func aRecordKeepsItsHexString() throws {
        let old = Data(
            #"{"rolloutID":"r1","memberID":"8e9e05c52164694d","phase":"done","from":"3.4.23","to":"3.5.30","updatedAt":0}"#
                .utf8)
        let rec = try JSONDecoder().decode(MemberRecord.self, from: old)
        #expect(rec.memberID == MemberID(0x8e9e_05c5_2164_694d))
        let again = try JSONSerialization.jsonObject(with: JSONEncoder().encode(rec)) as? [String: Any]
        #expect(again?["memberID"] as? String == "8e9e05c52164694d")
        // Not an ID: the record is unreadable (gate 4 waits for its daemon to rewrite it), never a guess.
        let bad = Data(String(decoding: old, as: UTF8.self).replacingOccurrences(of: "8e9e05c52164694d", with: "").utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(MemberRecord.self, from: bad) }
    }
}
