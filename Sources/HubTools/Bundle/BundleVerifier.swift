import Foundation
import HubDomain
@_spi(Storage) import HubEventLog

/// `hubstore verify --bundle`: checks an export bundle without importing it — every event's hash
/// against the chain (gapless positions in a whole-log export; each event's `previousHash` in a
/// filtered one), the manifest's counts, head and file digests, and every asset's bytes. The first
/// problem is thrown as a ``BundleError`` that says where.
public struct BundleVerifier: Sendable {
    /// A bundle directory, or a `.tar` of one.
    public var path: String

    public init(path: String) {
        self.path = path
    }

    public struct Report: Sendable {
        public var manifest: ExportManifest
        public var seconds: Double
    }

    public func run(progress: (Int64, Int64) -> Void = { _, _ in }) throws -> Report {
        let clock = ContinuousClock()
        let started = clock.now
        let manifest = try BundleLocation.withDirectory(of: path) { directory in
            try Self.verify(directory: directory, progress: progress)
        }
        return Report(manifest: manifest, seconds: AppendBenchmark.seconds(started.duration(to: clock.now)))
    }

    /// Verifies the unpacked bundle in `directory`; calls `each` with every event in order.
    static func verify(
        directory: String,
        progress: (Int64, Int64) -> Void,
        each: (RecordedEvent) throws -> Void = { _ in }
    ) throws -> ExportManifest {
        let manifest = try BundleFiles.readManifest(in: directory)
        var previous: (position: Int64, hash: [UInt8])?
        var types: [String: Int64] = [:]
        var count: Int64 = 0
        try NDJSONLines.read(directory + "/events.ndjson") { line, number in
            let event: RecordedEvent
            let carried: [UInt8]?
            do {
                (event, carried) = try EventLine.read(line)
            } catch {
                throw BundleError("events.ndjson line \(number) is damaged: \(error)")
            }
            let chained: [UInt8]
            if manifest.filtered {
                guard let carried else {
                    throw BundleError("events.ndjson line \(number) (position \(event.position)) has no previousHash")
                }
                if let previous, previous.position == event.position - 1, previous.hash != carried {
                    throw BundleError(
                        "position \(event.position): its previousHash is not the hash of the event before"
                    )
                }
                chained = carried
            } else {
                let expected = (previous?.position ?? manifest.firstPosition - 1) + 1
                guard event.position == expected else {
                    throw BundleError(
                        "position \(expected) is missing: line \(number) holds position \(event.position)"
                    )
                }
                chained = try previous?.hash ?? hexHash(manifest.previousHash, "previousHash")
            }
            if let previous, event.position <= previous.position {
                throw BundleError("line \(number): position \(event.position) does not follow \(previous.position)")
            }
            guard EventHash.compute(event, previous: chained) == event.hash else {
                throw BundleError("position \(event.position): the event does not match its hash (changed)")
            }
            try each(event)
            previous = (event.position, event.hash)
            types[event.type, default: 0] += 1
            count += 1
            if count % 4096 == 0 { progress(count, manifest.events) }
        }
        guard count == manifest.events else {
            throw BundleError("events.ndjson has \(count) events; the manifest says \(manifest.events)")
        }
        guard types == manifest.types else { throw BundleError("the events per type differ from the manifest's") }
        if count > 0 {
            guard previous?.hash.hexEncoded == manifest.headHash, previous?.position == manifest.lastPosition else {
                throw BundleError("the last event is not the manifest's head (\(manifest.lastPosition))")
            }
        }
        for name in ["events.ndjson", "keys.ndjson"] {
            guard let expected = manifest.files[name] else { throw BundleError("the manifest lists no \(name)") }
            guard try BundleFiles.digest(of: directory + "/" + name) == expected else {
                throw BundleError("\(name) does not match the manifest's digest (changed or cut short)")
            }
        }
        for (hash, size) in manifest.assets {
            let path = directory + "/assets/" + hash
            guard FileManager.default.fileExists(atPath: path) else { throw BundleError("asset \(hash) is missing") }
            guard try BundleFiles.digest(of: path) == ExportManifest.File(sha256: hash, bytes: size) else {
                throw BundleError("asset \(hash) does not match its SHA-256 and size (damaged)")
            }
        }
        progress(count, manifest.events)
        return manifest
    }

    private static func hexHash(_ text: String, _ name: String) throws -> [UInt8] {
        guard let bytes = text.hexDecoded, bytes.count == 32 else {
            throw BundleError("the manifest's \(name) is not 64 hex digits")
        }
        return bytes
    }
}

/// A bundle's directory: itself, or a `.tar` unpacked into a temporary one removed afterwards.
enum BundleLocation {
    static func withDirectory<T>(of path: String, _ body: (String) throws -> T) throws -> T {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw BundleError("\(path) does not exist")
        }
        if isDirectory.boolValue { return try body(path) }
        let temporary = FileManager.default.temporaryDirectory
            .appendingPathComponent("hubstore-bundle-\(UUID().uuidString)").path
        try BundleFiles.prepareEmptyDirectory(temporary)
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        try TarArchive.unpack(path, into: temporary)
        return try body(temporary)
    }
}

/// Reading an NDJSON file line by line, in pieces.
enum NDJSONLines {
    static func read(_ path: String, _ body: (String, Int) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BundleError("\(path) is missing") }
        defer { try? handle.close() }
        var pending: [UInt8] = []
        var number = 0
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            pending.append(contentsOf: chunk)
            var start = 0
            while let end = pending[start...].firstIndex(of: 0x0A) {
                number += 1
                try body(String(decoding: pending[start..<end], as: UTF8.self), number)
                start = end + 1
            }
            pending.removeFirst(start)
        }
        guard pending.isEmpty else {
            throw BundleError("\((path as NSString).lastPathComponent) ends inside a line: cut short")
        }
    }
}
