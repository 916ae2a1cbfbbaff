import Foundation
import Synchronization

/// The built `hubstore` binary, next to the test bundle in the build directory.
public var hubstoreBinary: String {
    let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [bundleDirectory, bundleDirectory.deletingLastPathComponent()] {
        let path = candidate.appendingPathComponent("hubstore").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return bundleDirectory.appendingPathComponent("hubstore").path
}

/// A child process whose output is collected as it arrives.
///
/// Started with `posix_spawn`, its pipes read and its exit awaited by threads of its own. Foundation's
/// `Process` (pipe readability handlers, its SIGCHLD source) crashed the test process now and then on
/// this toolchain, inside `Process.run()` or libdispatch's event loop.
public final class ChildProcess: Sendable {
    public let pid: Int32
    private let stdoutBuffer = OutputBuffer()
    private let stderrBuffer = OutputBuffer()
    private let exit = ExitStatus()

    /// Starts `executable` with `arguments`; `environment` entries are added to this process's.
    public init(_ arguments: [String], executable: String = hubstoreBinary, environment: [String: String] = [:]) throws
    {
        // Close-on-exec from the start, so a child spawned at the same time by another test does not
        // inherit our write ends (the readers would then wait for its exit).
        var stdoutPipe: [Int32] = [0, 0]
        var stderrPipe: [Int32] = [0, 0]
        let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, kind, 0, &stdoutPipe) == 0, socketpair(AF_UNIX, kind, 0, &stderrPipe) == 0 else {
            throw ChildProcessError.exited("socketpair failed: errno \(errno)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard code == 0 else {
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw ChildProcessError.exited("posix_spawn \(executable) failed: errno \(code)")
        }
        self.pid = pid
        let spawned = pid
        for (descriptor, buffer) in [(stdoutPipe[0], stdoutBuffer), (stderrPipe[0], stderrBuffer)] {
            Thread.detachNewThread { [buffer] in
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                    if count < 0, errno == EINTR { continue }
                    guard count > 0 else { break }
                    buffer.bytes.withLock { $0.append(contentsOf: chunk[0..<count]) }
                }
                close(descriptor)
            }
        }
        Thread.detachNewThread { [exit] in
            var status: Int32 = 0
            while waitpid(spawned, &status, 0) < 0, errno == EINTR {}
            // The exit code, or the signal number if it was killed (as Foundation's terminationStatus).
            let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : status & 0x7f
            exit.code.withLock { $0 = code }
        }
    }

    /// Everything written to standard output so far.
    public var standardOutput: String { String(decoding: stdoutBuffer.bytes.withLock { $0 }, as: UTF8.self) }
    /// Everything written to standard error so far.
    public var standardError: String { String(decoding: stderrBuffer.bytes.withLock { $0 }, as: UTF8.self) }

    /// Sends a signal (SIGTERM, SIGKILL, ...).
    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits for the process to exit and returns its status (the signal number if it was killed).
    public func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = exit.code.withLock({ $0 }) {
                // Let the pipes drain what the process wrote last.
                try await Task.sleep(for: .milliseconds(50))
                return status
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        signal(SIGKILL)
        throw ChildProcessError.timedOut("process did not exit within \(timeout); stderr: \(standardError)")
    }

    /// Waits until `condition` holds for the output so far.
    public func waitFor(
        timeout: Duration = .seconds(60),
        _ description: String,
        _ condition: (ChildProcess) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(self) {
            if exit.code.withLock({ $0 }) != nil, !condition(self) {
                throw ChildProcessError.exited("process exited before \(description); stderr: \(standardError)")
            }
            guard ContinuousClock.now < deadline else {
                throw ChildProcessError.timedOut("timed out waiting for \(description); stderr: \(standardError)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs a command to completion and returns its status and output.
    public static func run(
        _ arguments: [String],
        executable: String = hubstoreBinary,
        environment: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(arguments, executable: executable, environment: environment)
        let status = try await child.waitForExit(timeout: timeout)
        return (status, child.standardOutput, child.standardError)
    }
}

/// Output collected from one of a child's pipes.
private final class OutputBuffer: Sendable {
    let bytes = Mutex<[UInt8]>([])
}

/// A child's exit status, once it exited.
private final class ExitStatus: Sendable {
    let code = Mutex<Int32?>(nil)
}

public enum ChildProcessError: Error, CustomStringConvertible {
    case timedOut(String)
    case exited(String)

    public var description: String {
        switch self {
        case .timedOut(let text), .exited(let text): text
        }
    }
}
