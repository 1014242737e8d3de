import Foundation
import NIOSSL

/// Files for TLS to etcd: a CA to trust, and for client-cert auth a certificate and its key (PEM).
public struct TLSOptions: Sendable, Equatable, Codable {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
    }

    public var isEmpty: Bool { caFile == nil && certFile == nil && keyFile == nil }

    /// The NIOSSL client configuration; throws (naming the file) when a file cannot be read.
    func makeConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let ca = caFile { tls.trustRoots = .certificates(try load(ca) { try NIOSSLCertificate.fromPEMFile($0) }) }
        switch (certFile, keyFile) {
        case let (cert?, key?):
            tls.certificateChain = try load(cert) { try NIOSSLCertificate.fromPEMFile($0) }.map { .certificate($0) }
            tls.privateKey = .privateKey(try load(key) { try NIOSSLPrivateKey(file: $0, format: .pem) })
        case (nil, nil): break
        default: throw EtcdError.tlsFile(path: certFile ?? keyFile ?? "", detail: "certFile and keyFile go together")
        }
        return tls
    }

    private func load<T>(_ path: String, _ body: (String) throws -> T) throws -> T {
        if access(path, R_OK) != 0 {
            let e = errno
            throw EtcdError.tlsFile(
                path: path,
                detail: e == ENOENT
                    ? "does not exist (ENOENT)" : "is not readable (\(String(cString: strerror(e))))")
        }
        do { return try body(path) } catch {
            throw EtcdError.tlsFile(
                path: path, detail: "is not a PEM certificate or key this client can use (\(error))")
        }
    }
}
