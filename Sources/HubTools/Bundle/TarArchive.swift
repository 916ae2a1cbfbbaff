import Foundation

/// The POSIX ustar format, as much of it as a bundle needs: regular files and directories, names
/// under 100 bytes. `hubstore export --out x.tar` packs a bundle directory; reading a `.tar` bundle
/// unpacks it to a temporary directory. A damaged archive (a bad header checksum, a file cut short)
/// is refused with the reason.
enum TarArchive {
    private static let block = 512

    /// Packs every file under `directory` (relative names, sorted) into a new file at `path`, each
    /// file streamed in pieces.
    static func pack(directory: String, into path: String) throws {
        let writer = try BundleFiles.Writer(path: path)
        let names = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
        for name in names {
            let source = directory + "/" + name
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue {
                try writer.write(header(name: name + "/", size: 0, type: UInt8(ascii: "5"), mode: 0o700))
                continue
            }
            guard let handle = FileHandle(forReadingAtPath: source) else { throw BundleError("cannot read \(source)") }
            defer { try? handle.close() }
            let size = Int(try handle.seekToEnd())
            try handle.seek(toOffset: 0)
            try writer.write(header(name: name, size: size, type: UInt8(ascii: "0"), mode: 0o600))
            var copied = 0
            while copied < size, let chunk = try handle.read(upToCount: min(1 << 20, size - copied)), !chunk.isEmpty {
                try writer.write(Array(chunk))
                copied += chunk.count
            }
            guard copied == size else { throw BundleError("\(source) changed while it was packed") }
            let padding = (block - size % block) % block
            if padding > 0 { try writer.write([UInt8](repeating: 0, count: padding)) }
        }
        try writer.write([UInt8](repeating: 0, count: block * 2))
        _ = try writer.close()
    }

    /// Unpacks the archive at `path` into the empty directory `directory`, each file streamed in pieces.
    static func unpack(_ path: String, into directory: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BundleError("cannot read \(path)") }
        defer { try? handle.close() }
        var offset = 0
        func read(_ count: Int) throws -> [UInt8] {
            var bytes: [UInt8] = []
            while bytes.count < count, let chunk = try handle.read(upToCount: count - bytes.count), !chunk.isEmpty {
                bytes += chunk
            }
            offset += bytes.count
            return bytes
        }
        while true {
            let header = try read(block)
            guard header.count == block else { throw BundleError("\(path) is cut short: no end-of-archive blocks") }
            if header.allSatisfy({ $0 == 0 }) { return }
            guard checksum(header) == octal(header[148..<156]) else {
                throw BundleError("\(path) is damaged: a bad tar header at byte \(offset - block)")
            }
            let name = String(decoding: header[0..<100].prefix { $0 != 0 }, as: UTF8.self)
            guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
                throw BundleError("\(path) holds an unsafe name '\(name)'")
            }
            guard let size = octal(header[124..<136]) else { throw BundleError("\(path) is damaged at byte \(offset)") }
            if header[156] == UInt8(ascii: "5") {
                try FileManager.default.createDirectory(
                    atPath: directory + "/" + name,
                    withIntermediateDirectories: true
                )
                continue
            }
            let target = directory + "/" + name
            try FileManager.default.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            let writer = try BundleFiles.Writer(path: target)
            var remaining = size
            while remaining > 0 {
                let chunk = try read(min(1 << 20, remaining))
                guard !chunk.isEmpty else { throw BundleError("\(path) is cut short inside \(name)") }
                try writer.write(chunk)
                remaining -= chunk.count
            }
            _ = try writer.close()
            let padding = (block - size % block) % block
            guard try read(padding).count == padding else { throw BundleError("\(path) is cut short after \(name)") }
        }
    }

    private static func header(name: String, size: Int, type: UInt8, mode: Int) throws -> [UInt8] {
        let nameBytes = Array(name.utf8)
        guard nameBytes.count < 100 else { throw BundleError("name too long for tar: \(name)") }
        var header = [UInt8](repeating: 0, count: block)
        header.replaceSubrange(0..<nameBytes.count, with: nameBytes)
        func field(_ value: Int, at start: Int, width: Int) {
            let text = Array(String(value, radix: 8).utf8)
            let padded = [UInt8](repeating: UInt8(ascii: "0"), count: width - 1 - text.count) + text
            header.replaceSubrange(start..<start + width - 1, with: padded)
        }
        field(mode, at: 100, width: 8)
        field(0, at: 108, width: 8)
        field(0, at: 116, width: 8)
        field(size, at: 124, width: 12)
        field(Int(Date().timeIntervalSince1970), at: 136, width: 12)
        header[156] = type
        header.replaceSubrange(257..<263, with: Array("ustar\0".utf8))
        header.replaceSubrange(263..<265, with: Array("00".utf8))
        let sum = checksum(header)
        let text = Array(String(sum, radix: 8).utf8)
        let padded = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - text.count) + text
        header.replaceSubrange(148..<156, with: padded + [0, UInt8(ascii: " ")])
        return header
    }

    /// The header's checksum: its bytes summed with the checksum field read as spaces.
    private static func checksum(_ header: [UInt8]) -> Int {
        header.enumerated().reduce(0) { sum, item in sum + ((148..<156).contains(item.offset) ? 32 : Int(item.element))
        }
    }

    private static func octal(_ bytes: ArraySlice<UInt8>) -> Int? {
        let digits = bytes.prefix { $0 != 0 && $0 != UInt8(ascii: " ") }
        guard !digits.isEmpty else { return bytes.allSatisfy { $0 == 0 || $0 == UInt8(ascii: " ") } ? 0 : nil }
        return Int(String(decoding: digits, as: UTF8.self).trimmingCharacters(in: .whitespaces), radix: 8)
    }
}
