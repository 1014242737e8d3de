import Foundation

/// Where a JSON text stops being JSON, as an operator reads it: "line 4, column 15". JSONDecoder only says "not valid
/// JSON"; JSONSerialization names a character offset, which this turns into a line and column.
enum JSONProblem {
    static func describe(_ data: Data) -> String {
        guard data.contains(where: { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }) else {
            return "the file is empty"
        }
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return "not a JSON value the decoder accepts"
        } catch {
            let text = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? ""
            guard let range = text.range(of: #"character (\d+)"#, options: .regularExpression),
                let offset = Int(text[range].dropFirst("character ".count))
            else { return text.isEmpty ? "malformed" : text }
            let (line, column) = position(of: offset, in: data)
            let what = text.replacingOccurrences(
                of: #" around character \d+\.?"#, with: "", options: .regularExpression)
            return
                "\(what.isEmpty ? "malformed" : what.prefix(1).lowercased() + what.dropFirst()) at line \(line), column \(column)"
        }
    }

    /// 1-based line and column of a byte offset.
    static func position(of offset: Int, in data: Data) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for byte in data.prefix(offset) {
            if byte == 0x0a {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }
}
