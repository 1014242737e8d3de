import Exec

/// A test CA, a server certificate for 127.0.0.1/localhost and a client certificate, made by openssl in `dir`
/// (ca.crt, server.crt/key, client.crt/key with CN=etcd-shepherd, as installers make them).
public enum TestCertificates {
    public static func make(in dir: String) async throws {
        let script = """
            set -e; cd '\(dir)'
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=etcd-server 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth,clientAuth\\nkeyUsage=digitalSignature,keyEncipherment\\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=etcd-shepherd 2>/dev/null
            printf 'extendedKeyUsage=clientAuth\\nkeyUsage=digitalSignature,keyEncipherment\\n' > client.ext
            openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2 -extfile client.ext 2>/dev/null
            chmod 600 *.key
            """
        let r = try await Command.run(["bash", "-c", script])
        guard r.succeeded else { throw Repo.MissingDependency(what: "openssl (\(r.summary))") }
    }

    /// The etcd flags that serve client TLS with these files and require a client certificate.
    public static func mutualTLSFlags(_ dir: String) -> [String] {
        [
            "--client-cert-auth", "--trusted-ca-file", dir + "/ca.crt", "--cert-file", dir + "/server.crt",
            "--key-file", dir + "/server.key",
        ]
    }
}
