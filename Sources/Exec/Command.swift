import Explained
import Foundation
import Subprocess

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// Runs a command given as argv (never through a shell), collects its output, and gives up after a deadline
/// (the child then gets SIGTERM, and SIGKILL 2 s later).
public enum Command {
    public struct Result: Sendable, Equatable {
        public let argv: [String]
        /// The exit code, or 128 + signal number when a signal ended it.
        public let exitCode: Int32
        public let stdout: String
        public let stderr: String
        public var succeeded: Bool { exitCode == 0 }
        public var summary: String {
            let tail = (stderr.isEmpty ? stdout : stderr).split(separator: "\n").suffix(3).joined(separator: " | ")
            return "`\(argv.joined(separator: " "))` exited \(exitCode)\(tail.isEmpty ? "" : ": \(tail)")"
        }
    }

    /// A command that could not be run or was given up on: the command is its `thing`.
    public struct Failure: ExplainedError {
        public let argv: [String]
        public let detail: String
        public var thing: String { "`\(argv.joined(separator: " "))`" }
        public var cause: String { detail }
        public var fix: String { "" }
    }

    /// `argv[0]` is a path (absolute or relative) or a name looked up in PATH. `started` is called with the child's
    /// pid once it runs (before its output is collected). `input` is written to its stdin (empty: at once EOF).
    public static func run(
        _ argv: [String], environment: [String: String] = [:], input: String = "", timeout: Duration = .seconds(60),
        outputLimit: Int = 4 << 20, started: (@Sendable (Int32) -> Void)? = nil
    ) async throws -> Result {
        guard let first = argv.first, !first.isEmpty else { throw Failure(argv: argv, detail: "empty command") }
        let executable: Executable = first.contains("/") ? .path(FilePath(first)) : .name(first)
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
        var env = Environment.inherit
        if !environment.isEmpty {
            env = env.updating(
                Dictionary(
                    uniqueKeysWithValues: environment.map {
                        (Environment.Key(stringLiteral: $0.key), Optional($0.value))
                    }))
        }
        let work = Task {
            try await Subprocess.run(
                executable, arguments: Arguments(Array(argv.dropFirst())), environment: env,
                platformOptions: options, input: .string(input), output: .string(limit: outputLimit),
                error: .string(limit: outputLimit)
            ) { execution -> Void in
                if let started { started(execution.processIdentifier.value) }
            }
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            work.cancel()
        }
        defer { timer.cancel() }
        let r: ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
        do { r = try await work.value } catch is CancellationError {
            throw Failure(argv: argv, detail: "did not finish within \(timeout)")
        } catch {
            throw Failure(argv: argv, detail: "\(error)")
        }
        let code: Int32
        switch r.terminationStatus {
        case let .exited(c): code = Int32(c)
        case let .signaled(s): code = 128 + Int32(s)
        }
        return Result(argv: argv, exitCode: code, stdout: r.standardOutput, stderr: r.standardError)
    }
}
