import Foundation
import SystemPackage

extension FileDescriptor {
    /// fsync(2), retried when a signal interrupts it (swift-system has no fsync of its own).
    public func sync() throws(Errno) {
        while fsync(rawValue) != 0 {
            let e = Errno(rawValue: errno)
            guard e == .interrupted else { throw e }
        }
    }
}

extension FileDescriptor {
    /// Reads until end of file or `limit` bytes, whichever comes first (each read retried when interrupted): a file
    /// that is larger than it said is read no further than the caller will look.
    public func readUpTo(_ limit: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: limit)
        var n = 0
        while n < limit {
            let got = try bytes.withUnsafeMutableBytes { raw in
                try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[n...]))
            }
            if got == 0 { break }
            n += got
        }
        return Array(bytes[..<n])
    }
}
