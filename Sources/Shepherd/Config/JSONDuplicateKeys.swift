import Foundation

/// JSONDecoder keeps one of two equal keys in an object without a word; a request or config with `"version"` twice
/// means two things at once and is refused. A small scan over the (already size-limited) bytes: the first key that
/// occurs twice in the same object, as its dotted path.
enum JSONDuplicateKeys {
    static func first(in data: Data) -> String? {
        struct Level {
            var isObject: Bool
            var keys: Set<[UInt8]> = []
            var expectKey: Bool
            var path: String
        }
        var stack: [Level] = []
        var lastKey = ""
        let bytes = [UInt8](data)
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"):
                let path = stack.isEmpty ? "" : (stack.last!.path.isEmpty ? lastKey : stack.last!.path + "." + lastKey)
                stack.append(Level(isObject: true, expectKey: true, path: path))
            case UInt8(ascii: "["):
                stack.append(Level(isObject: false, expectKey: false, path: stack.last?.path ?? ""))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
            case UInt8(ascii: ","):
                if let top = stack.last, top.isObject { stack[stack.count - 1].expectKey = true }
            case UInt8(ascii: ":"):
                if !stack.isEmpty { stack[stack.count - 1].expectKey = false }
            case UInt8(ascii: "\""):
                var j = i + 1
                while j < bytes.count && bytes[j] != UInt8(ascii: "\"") { j += bytes[j] == UInt8(ascii: "\\") ? 2 : 1 }
                let key = Array(bytes[min(i + 1, bytes.count)..<min(j, bytes.count)])
                if let top = stack.last, top.isObject, top.expectKey {
                    let name = String(decoding: key, as: UTF8.self)
                    if top.keys.contains(key) { return top.path.isEmpty ? name : top.path + "." + name }
                    stack[stack.count - 1].keys.insert(key)
                    lastKey = name
                }
                i = j
            default:
                break
            }
            i += 1
        }
        return nil
    }
}
