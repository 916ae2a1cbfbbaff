public import Foundation
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
/// `@unchecked Sendable`: `Process` is not marked Sendable, but after `run()` this type only reads its
/// pid and sends signals by pid; the collected output and exit status are behind mutexes.
public final class ChildProcess: @unchecked Sendable {
    private let process: Process
    private let stdoutBuffer = Mutex<[UInt8]>([])
    private let stderrBuffer = Mutex<[UInt8]>([])
    private let exit = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    /// Starts `executable` with `arguments`; `environment` entries are added to this process's.
    public init(_ arguments: [String], executable: String = hubstoreBinary, environment: [String: String] = [:]) throws
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        self.process = process
        let collect: @Sendable (borrowing Mutex<[UInt8]>, FileHandle) -> Void = { buffer, handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
            } else {
                buffer.withLock { $0.append(contentsOf: data) }
            }
        }
        stdout.fileHandleForReading.readabilityHandler = { [self] in collect(self.stdoutBuffer, $0) }
        stderr.fileHandleForReading.readabilityHandler = { [self] in collect(self.stderrBuffer, $0) }
        process.terminationHandler = { [self] process in
            let waiters = self.exit.withLock { state in
                state.status = process.terminationStatus
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: process.terminationStatus) }
        }
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }

    /// Everything written to standard output so far.
    public var standardOutput: String { String(decoding: stdoutBuffer.withLock { $0 }, as: UTF8.self) }
    /// Everything written to standard error so far.
    public var standardError: String { String(decoding: stderrBuffer.withLock { $0 }, as: UTF8.self) }

    /// Sends a signal (SIGTERM, SIGKILL, ...).
    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit and returns its status (the signal number if it was killed).
    public func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = exit.withLock({ $0.status }) {
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
            if exit.withLock({ $0.status }) != nil, !condition(self) {
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
        environment: [String: String] = [:]
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(arguments, executable: executable, environment: environment)
        let status = try await child.waitForExit()
        return (status, child.standardOutput, child.standardError)
    }
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
