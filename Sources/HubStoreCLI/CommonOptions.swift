public import ArgumentParser
import Foundation
public import HubSQLite
public import Logging

extension ConnectionConfiguration.Synchronous: ExpressibleByArgument {}

/// Reads `flag ?? environment ?? default`, failing clearly on an environment value that does not parse.
func resolve<T: ExpressibleByArgument>(_ flag: T?, environment name: String, default value: T) throws -> T {
    if let flag { return flag }
    guard let text = ProcessInfo.processInfo.environment[name], !text.isEmpty else { return value }
    guard let parsed = T(argument: text) else {
        throw ValidationError("environment variable \(name) has an invalid value '\(text)'")
    }
    return parsed
}

/// Options every command that opens a data directory shares.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory (env HUBSTORE_DATA; default ./hubstore-data).")
    var data: String?

    func resolvedData() throws -> String {
        try resolve(data, environment: "HUBSTORE_DATA", default: "./hubstore-data")
    }
}

/// Log level and format; logs go to standard error.
struct LoggingOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(
        name: .long,
        help: "trace, debug, info, notice, warning, error or critical (env HUBSTORE_LOG_LEVEL; default info)."
    )
    var logLevel: Logger.Level?

    @Option(name: .long, help: "text or json: one JSON object a line (env HUBSTORE_LOG_FORMAT; default text).")
    var logFormat: Format?

    /// Bootstraps the process's logging once and returns the hub's logger.
    func makeLogger() throws -> Logger {
        let level = try resolve(logLevel, environment: "HUBSTORE_LOG_LEVEL", default: .info)
        let format = try resolve(logFormat, environment: "HUBSTORE_LOG_FORMAT", default: .text)
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                format == .json ? JSONLogHandler(label: label) : TextLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "hubstore")
        logger.logLevel = level
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
