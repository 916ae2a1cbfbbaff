import ArgumentParser
import Foundation

/// Runs `body`; an error becomes one line on standard error and exit code 1, never a crash trace.
func failingClearly<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as any ParsableArgumentsValidationError {
        throw error
    } catch is ExitCode {
        throw ExitCode.failure
    } catch {
        FileHandle.standardError.write(Data("hubstore: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

private protocol ParsableArgumentsValidationError: Error {}
extension ValidationError: ParsableArgumentsValidationError {}
