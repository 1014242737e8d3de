import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// A streaming call on a connection of its own that ends when its caller is cancelled, whatever gRPC does.
///
/// `withGRPCClient` ends a call on cancellation only once gRPC notices: a call cancelled within microseconds of its
/// start (the daemon closes its change watch right before its member's stop, at any moment of the watch's life)
/// was seen to wait for its deadline, 300 s for the watch, before the client's task group let go — `ChangeWatcherTests`
/// under the parallel test runner, 4 runs in 5, before any byte reached the member. Here the connection runs in a task
/// of its own, stopped abruptly (its task cancelled: every stream on it fails, the socket closes) once the call
/// returns or throws, or its caller is cancelled — on cancellation without waiting for the call: one stuck inside
/// gRPC is left to end at its deadline, with no connection left under it. Returns once the connection is gone.
enum RPCStream {
    static func run<R: Sendable>(
        transport: HTTP2ClientTransport.Posix,
        _ body: @escaping @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> R
    ) async throws -> R {
        let client = GRPCClient(transport: transport)
        let connections = Task { try? await client.runConnections() }
        let outcome = Outcome<R>()
        let call = Task {
            do { outcome.finish(.success(try await body(client))) } catch { outcome.finish(.failure(error)) }
        }
        let result: Result<R, any Error>
        do {
            result = .success(
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { outcome.wait($0) }
                } onCancel: {
                    call.cancel()
                    outcome.finish(.failure(CancellationError()))
                })
        } catch {
            result = .failure(error)
        }
        // Returns once the connection is gone.
        connections.cancel()
        await connections.value
        return try result.get()
    }

    /// The first of the call's result and its caller's cancellation, delivered once.
    final class Outcome<R: Sendable>: Sendable {
        private let state = Mutex<(CheckedContinuation<R, any Error>?, Result<R, any Error>?)>((nil, nil))

        func wait(_ continuation: CheckedContinuation<R, any Error>) {
            let early = state.withLock { state -> Result<R, any Error>? in
                if let result = state.1 { return result }
                state.0 = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        func finish(_ result: Result<R, any Error>) {
            let waiting = state.withLock { state -> CheckedContinuation<R, any Error>? in
                guard state.1 == nil else { return nil }
                state.1 = result
                defer { state.0 = nil }
                return state.0
            }
            waiting?.resume(with: result)
        }
    }
}
