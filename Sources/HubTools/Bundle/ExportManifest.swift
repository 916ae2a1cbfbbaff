import Foundation

/// An export bundle's `manifest.json`: what the bundle holds and what checks it.
///
/// A bundle is a directory (or a `.tar` of one) with `manifest.json`, `events.ndjson` (the log in the
/// export form, one event per line, in position order), `keys.ndjson` (the wrapped data keys of the
/// sealed content, still wrapped under the source's master key) and `assets/<sha256>` (the bytes of
/// every uploaded asset the events name).
public struct ExportManifest: Codable, Sendable, Equatable {
    public static let formatName = "hubstore-export"
    public static let currentVersion = 1

    /// The filters an export was made with (all `nil` for a whole log).
    public struct Filters: Codable, Sendable, Equatable {
        public var account: String?
        public var fromPosition: Int64?
        public var toPosition: Int64?
        public var fromTime: String?
        public var toTime: String?
        public var types: [String]?

        public init() {}

        public var isEmpty: Bool {
            account == nil && fromPosition == nil && toPosition == nil && fromTime == nil && toTime == nil
                && (types ?? []).isEmpty
        }
    }

    /// A file of the bundle: its SHA-256 (lowercase hex) and size.
    public struct File: Codable, Sendable, Equatable {
        public var sha256: String
        public var bytes: Int64
    }

    public var format: String
    public var formatVersion: Int
    public var exportedAt: String
    /// The source log's last position when the export read it.
    public var sourceHeadPosition: Int64
    /// Whether events were left out (a filtered export cannot be imported as a copy).
    public var filtered: Bool
    public var filters: Filters
    public var firstPosition: Int64
    public var lastPosition: Int64
    public var events: Int64
    /// The hash of the last exported event (lowercase hex); empty for an empty export.
    public var headHash: String
    /// The hash of the event before the first exported one (all zeros before position 1): where the
    /// chain of an unfiltered export starts.
    public var previousHash: String
    /// Events per type.
    public var types: [String: Int64]
    /// `events.ndjson` and `keys.ndjson`.
    public var files: [String: File]
    public var keys: Int64
    /// Each asset's SHA-256 and size.
    public var assets: [String: Int64]
}
