import Foundation

/// The symlink the member's service executes. Repointed atomically: a temp symlink beside it, then rename(2),
/// so the link always names a whole binary.
public struct BinaryLink: BinaryLinking {
    public let path: String
    public init(path: String) { self.path = path }

    public func target() -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: path) }

    public func point(to binary: String) throws {
        let tmp = path + ".shepherd-tmp"
        unlink(tmp)
        guard symlink(binary, tmp) == 0 else {
            throw ControllerError.file(tmp, "symlink: \(String(cString: strerror(errno)))")
        }
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw ControllerError.file(path, "rename: \(String(cString: strerror(errno)))")
        }
        FileIO.syncDirectory((path as NSString).deletingLastPathComponent)
    }
}
