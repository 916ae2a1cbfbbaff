import Foundation

/// Runs blocking work (files, SQLite, a long computation) on a thread of its own, off the
/// cooperative pool.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Swift.Result { try work() }) }.start()
    }
}
