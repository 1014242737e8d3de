import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import SwiftProtobuf

@testable import EtcdClient

/// A stand-in for an etcd 3.3 member's client port (no 3.3 binary reaches these machines): the three calls a daemon
/// makes of a member it finds in a cluster — member list, range, status — answered in the shapes 3.3.27 gives (a
/// status without the fields 3.4 added: raft applied index, errors, db size in use, learner). Any other method is
/// UNIMPLEMENTED, as a call 3.3 does not know would be.
struct Etcd33Double: RegistrableRPCService {
    static let memberID: UInt64 = 10_276_657_743_932_975_437
    let url: String

    /// Runs `body` with the URL of a double listening on a loopback `port` (a free one when 0); stops it — its
    /// connections told to go away, its port closed — when `body` returns.
    static func with<R: Sendable>(port: Int = 0, _ body: @Sendable (String) async throws -> R) async throws -> R {
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            let server = GRPCServer(transport: transport, services: [Etcd33Double(url: "")])
            group.addTask { try await server.serve() }
            defer { server.beginGracefulShutdown() }
            guard let port = try await transport.listeningAddress.ipv4?.port else {
                throw EtcdError.unreachable(endpoint: "", call: "listen", detail: "the double did not listen")
            }
            return try await body("http://127.0.0.1:\(port)")
        }
    }

    var header: Etcdserverpb_ResponseHeader {
        var h = Etcdserverpb_ResponseHeader()
        h.clusterID = 14_841_639_068_965_178_418
        h.memberID = Self.memberID
        h.revision = 7
        h.raftTerm = 2
        return h
    }

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        func answer<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
            _ service: String, _ method: String, _ make: @escaping @Sendable (Request) -> Response
        ) {
            router.registerHandler(
                forMethod: MethodDescriptor(fullyQualifiedService: service, method: method),
                deserializer: ProtobufDeserializer<Request>(), serializer: ProtobufSerializer<Response>()
            ) { request, _ in
                var first: Request?
                for try await m in request.messages where first == nil { first = m }
                return StreamingServerResponse(single: ServerResponse(message: make(first ?? Request())))
            }
        }
        let header = self.header
        answer("etcdserverpb.Cluster", "MemberList") { (_: Etcdserverpb_MemberListRequest) in
            var m = Etcdserverpb_Member()
            m.id = Self.memberID
            m.name = "old33"
            m.peerUrls = ["http://127.0.0.1:2380"]
            var r = Etcdserverpb_MemberListResponse()
            r.header = header
            r.members = [m]
            return r
        }
        answer("etcdserverpb.KV", "Range") { (q: Etcdserverpb_RangeRequest) in
            var kv = Etcdserverpb_KeyValue()
            kv.key = q.key
            kv.value = Data("v33".utf8)
            kv.createRevision = 7
            kv.modRevision = 7
            kv.version = 1
            var r = Etcdserverpb_RangeResponse()
            r.header = header
            r.kvs = [kv]
            r.count = 1
            return r
        }
        answer("etcdserverpb.Maintenance", "Status") { (_: Etcdserverpb_StatusRequest) in
            var r = Etcdserverpb_StatusResponse()
            r.header = header
            r.version = "3.3.27"
            r.dbSize = 24576
            r.leader = Self.memberID
            r.raftIndex = 9
            r.raftTerm = 2
            return r
        }
    }
}
