import Logging

/// The text log format (`--log-format text`): swift-log's `StreamLogHandler` on standard error, whose
/// lines it writes, with the logger's metadata kept as a plain dictionary until a record is written.
///
/// `StreamLogHandler` formats its whole metadata again each time a key is set, and the HTTP server
/// sets one on every request's logger (`hb.request.id`): work for every request, even when nothing
/// is logged at the level in force. Here a key costs a dictionary write, and the metadata is
/// formatted only for a record that is written.
struct TextLogHandler: LogHandler {
    private var stream: StreamLogHandler
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        stream = StreamLogHandler.standardError(label: label)
    }

    var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var stream = self.stream
        stream.metadata = metadata
        stream.log(event: event)
    }
}
