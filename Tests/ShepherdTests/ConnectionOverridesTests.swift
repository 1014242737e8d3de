import EtcdClient
import Foundation
import Shepherd
import Testing

/// etcdctl's precedence: a flag, then its ETCDCTL_* variable, then the config file.
@Suite struct ConnectionOverridesTests {
    let config = Config.Cluster(
        endpoints: ["https://10.0.0.1:2379"],
        tls: TLSOptions(caFile: "/etc/ca.pem", certFile: "/c.pem", keyFile: "/k.pem"),
        auth: Config.Auth(user: "shepherd", passwordFile: "/etc/etcd-shepherd/password"))

    func problem(_ o: ConnectionOverrides, _ env: [String: String], base: Config.Cluster? = nil) -> String {
        do {
            _ = try o.apply(to: base ?? config, environment: env)
            return "accepted"
        } catch { return "\(error)" }
    }

    @Test func aFlagWinsOverItsVariableWhichWinsOverTheConfig() throws {
        let env = ["ETCDCTL_ENDPOINTS": "https://10.0.0.2:2379,https://10.0.0.3:2379", "ETCDCTL_CACERT": "/env/ca.pem"]
        let fromEnv = try ConnectionOverrides().apply(to: config, environment: env)
        #expect(fromEnv.endpoints == ["https://10.0.0.2:2379", "https://10.0.0.3:2379"])
        #expect(fromEnv.tls == TLSOptions(caFile: "/env/ca.pem", certFile: "/c.pem", keyFile: "/k.pem"))
        #expect(fromEnv.auth == config.auth && fromEnv.keyPrefix == config.keyPrefix)
        let fromFlags = try ConnectionOverrides(endpoints: "https://10.0.0.9:2379", cacert: "/flag/ca.pem")
            .apply(to: config, environment: env)
        #expect(fromFlags.endpoints == ["https://10.0.0.9:2379"] && fromFlags.tls.caFile == "/flag/ca.pem")
        #expect(try ConnectionOverrides().apply(to: config, environment: [:]) == config)
        // No config at all: the endpoints come from a flag or the environment, or nothing is reachable.
        #expect(try ConnectionOverrides().apply(to: nil, environment: env).endpoints.count == 2)
        #expect(problem(ConnectionOverrides(), [:], base: Config.Cluster(endpoints: [])).contains("no endpoints"))
    }

    @Test func usersAndPasswordsAsEtcdctlTakesThem() throws {
        // user:password in the variable; a user alone takes ETCDCTL_PASSWORD, or --password-file.
        let inline = try ConnectionOverrides().apply(to: config, environment: ["ETCDCTL_USER": "root:s3cret"])
        #expect(inline.auth == Config.Auth(user: "root", password: "s3cret"))
        let env = ["ETCDCTL_USER": "root", "ETCDCTL_PASSWORD": "pw"]
        #expect(
            try ConnectionOverrides().apply(to: config, environment: env).auth
                == Config.Auth(user: "root", password: "pw"))
        let file = try ConnectionOverrides(user: "root", passwordFile: "/root/pw").apply(to: config, environment: env)
        #expect(file.auth == Config.Auth(user: "root", passwordFile: "/root/pw"))
        // The config's password belongs to the config's user only.
        #expect(problem(ConnectionOverrides(user: "root"), [:]).contains("no password for etcd user root"))
        #expect(try ConnectionOverrides(user: "shepherd").apply(to: config, environment: [:]).auth == config.auth)
        #expect(
            problem(ConnectionOverrides(passwordFile: "/pw"), [:], base: Config.Cluster(endpoints: ["http://a:1"]))
                .contains("give --user too"))
    }

    @Test func whatIsWrongIsNamedAsTyped() {
        #expect(problem(ConnectionOverrides(endpoints: "10.0.0.1:2379"), [:]).hasPrefix("--endpoints: '10.0.0.1:2379'"))
        #expect(
            problem(ConnectionOverrides(), ["ETCDCTL_ENDPOINTS": "ftp://x"]).hasPrefix("ETCDCTL_ENDPOINTS: 'ftp://x'"))
        #expect(problem(ConnectionOverrides(endpoints: " , "), [:]).contains("names no endpoint"))
        let noKey = Config.Cluster(endpoints: ["https://a:1"])
        #expect(problem(ConnectionOverrides(cert: "/c.pem"), [:], base: noKey).contains("go together"))
    }
}
