public import Logging
import Synchronization

/// Log lines kept in memory: message and metadata, rendered.
public final class LogLines: Sendable {
    public struct Handler: LogHandler {
        let lines: LogLines
        public var metadata: Logger.Metadata = [:]
        public var logLevel: Logger.Level = .trace

        public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        public func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.entries.withLock { $0.append("\(event.level) \(event.message) \(rendered)") }
        }
    }

    let entries = Mutex<[String]>([])

    public init() {}

    public var all: [String] { entries.withLock { $0 } }
    public var logger: Logger { Logger(label: "test") { _ in Handler(lines: self) } }
}
