import Foundation

/// A table written as one Apache Parquet file (format 1, as pandas and DuckDB read it): one row group,
/// one uncompressed data page per column, every column `OPTIONAL`, values `PLAIN`, definition levels
/// `RLE`. A column holding only integers is `INT64`, integers and reals `DOUBLE`, anything else UTF-8
/// text (`BYTE_ARRAY`, converted type `UTF8`).
///
/// Specification: <https://github.com/apache/parquet-format> (`parquet.thrift`), metadata in Thrift's
/// compact protocol.
struct ParquetTable {
    enum Value {
        case null
        case integer(Int64)
        case double(Double)
        case text(String)
    }

    let columns: [String]
    /// The type of a column without values (all null), from its declared SQL type.
    let declared: [PhysicalType]
    private var values: [[Value]]
    private(set) var rowCount = 0

    /// `declaredTypes`: the columns' SQL types where known (`INTEGER`, `REAL`, `TEXT`).
    init(columns: [String], declaredTypes: [String?] = []) {
        self.columns = columns
        declared = columns.indices.map { index in
            let type = index < declaredTypes.count ? declaredTypes[index]?.uppercased() ?? "" : ""
            return type.contains("INT") ? .int64 : type.contains("REAL") || type.contains("FLOA") ? .double : .byteArray
        }
        values = columns.map { _ in [] }
    }

    mutating func append(_ row: [Value]) {
        for (index, value) in row.enumerated() { values[index].append(value) }
        rowCount += 1
    }

    /// Parquet's physical types used here (`Type` in parquet.thrift).
    enum PhysicalType: Int32 {
        case int64 = 2
        case double = 5
        case byteArray = 6
    }

    static func type(of column: [Value], declared: PhysicalType) -> PhysicalType {
        var sawDouble = false
        var sawValue = false
        for value in column {
            switch value {
            case .null: continue
            case .integer: sawValue = true
            case .double: sawDouble = true
            case .text: return .byteArray
            }
        }
        return sawDouble ? .double : sawValue ? .int64 : declared
    }

    /// The file's bytes.
    func file() throws -> [UInt8] {
        var file = Array("PAR1".utf8)
        var chunks: [(type: PhysicalType, offset: Int, size: Int, values: Int)] = []
        for (column, declared) in zip(values, declared) {
            let type = Self.type(of: column, declared: declared)
            let page = Self.page(column, type)
            // One page a column: its size is a Thrift i32.
            guard page.count <= Int(Int32.max) - 4096 else {
                throw BundleError("a column of this export is over 2 GiB: export it in parts (--from and --to)")
            }
            var header = ThriftCompactWriter()
            header.structure {
                $0.i32(1, 0)  // DATA_PAGE
                $0.i32(2, Int32(page.count))
                $0.i32(3, Int32(page.count))
                $0.field(
                    5,
                    struct: { data in
                        data.i32(1, Int32(column.count))
                        data.i32(2, 0)  // PLAIN
                        data.i32(3, 3)  // RLE
                        data.i32(4, 3)  // RLE
                    }
                )
            }
            chunks.append((type, file.count, header.bytes.count + page.count, column.count))
            file += header.bytes
            file += page
        }
        var metadata = ThriftCompactWriter()
        metadata.structure { meta in
            meta.i32(1, 1)
            meta.list(2, of: columns.count + 1) { list in
                list.element { root in
                    root.string(4, "schema")
                    root.i32(5, Int32(columns.count))
                }
                for (name, chunk) in zip(columns, chunks) {
                    list.element { element in
                        element.i32(1, chunk.type.rawValue)
                        element.i32(3, 1)  // OPTIONAL
                        element.string(4, name)
                        if chunk.type == .byteArray { element.i32(6, 0) }  // UTF8
                    }
                }
            }
            meta.i64(3, Int64(rowCount))
            meta.list(4, of: 1) { groups in
                groups.element { group in
                    group.list(1, of: chunks.count) { list in
                        for (name, chunk) in zip(columns, chunks) {
                            list.element { column in
                                column.i64(2, Int64(chunk.offset))
                                column.field(
                                    3,
                                    struct: { data in
                                        data.i32(1, chunk.type.rawValue)
                                        data.i32List(2, [0, 3])  // PLAIN, RLE
                                        data.stringList(3, [name])
                                        data.i32(4, 0)  // UNCOMPRESSED
                                        data.i64(5, Int64(chunk.values))
                                        data.i64(6, Int64(chunk.size))
                                        data.i64(7, Int64(chunk.size))
                                        data.i64(9, Int64(chunk.offset))
                                    }
                                )
                            }
                        }
                    }
                    group.i64(2, Int64(chunks.reduce(0) { $0 + $1.size }))
                    group.i64(3, Int64(rowCount))
                }
            }
            meta.string(6, "hubstore")
        }
        file += metadata.bytes
        withUnsafeBytes(of: UInt32(metadata.bytes.count).littleEndian) { file += $0 }
        file += Array("PAR1".utf8)
        return file
    }

    /// A data page (v1): the definition levels (RLE runs, bit width 1, after their 4-byte length),
    /// then the non-null values, `PLAIN`.
    static func page(_ column: [Value], _ type: PhysicalType) -> [UInt8] {
        var levels: [UInt8] = []
        var index = 0
        while index < column.count {
            let defined = !column[index].isNull
            var end = index
            while end < column.count, !column[end].isNull == defined { end += 1 }
            ThriftCompactWriter.varint(UInt64(end - index) << 1, to: &levels)
            levels.append(defined ? 1 : 0)
            index = end
        }
        var page: [UInt8] = []
        withUnsafeBytes(of: UInt32(levels.count).littleEndian) { page += $0 }
        page += levels
        for value in column {
            switch (value, type) {
            case (.null, _): continue
            case (.integer(let number), .int64): withUnsafeBytes(of: number.littleEndian) { page += $0 }
            case (.integer(let number), .double):
                withUnsafeBytes(of: Double(number).bitPattern.littleEndian) { page += $0 }
            case (.double(let number), _): withUnsafeBytes(of: number.bitPattern.littleEndian) { page += $0 }
            case (_, _):
                let text = Array(value.text.utf8)
                withUnsafeBytes(of: UInt32(text.count).littleEndian) { page += $0 }
                page += text
            }
        }
        return page
    }
}

extension ParquetTable.Value {
    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    var text: String {
        switch self {
        case .null: ""
        case .integer(let number): String(number)
        case .double(let number): String(number)
        case .text(let text): text
        }
    }
}

/// Thrift's compact protocol, the parts Parquet's metadata uses: structs of i32, i64, binary and
/// lists, field ids as deltas.
struct ThriftCompactWriter {
    private(set) var bytes: [UInt8] = []
    private var lastField: [Int16] = [0]

    enum Kind: UInt8 {
        case i32 = 5
        case i64 = 6
        case binary = 8
        case list = 9
        case structure = 12
    }

    static func varint(_ value: UInt64, to output: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            output.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        output.append(UInt8(value))
    }

    private mutating func varint(_ value: UInt64) { Self.varint(value, to: &bytes) }
    private mutating func zigzag(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    private mutating func header(_ id: Int16, _ kind: Kind) {
        let delta = id - lastField[lastField.count - 1]
        if delta > 0, delta <= 15 {
            bytes.append(UInt8(delta) << 4 | kind.rawValue)
        } else {
            bytes.append(kind.rawValue)
            zigzag(Int64(id))
        }
        lastField[lastField.count - 1] = id
    }

    /// A struct's fields, then its stop byte.
    mutating func structure(_ body: (inout ThriftCompactWriter) -> Void) {
        lastField.append(0)
        body(&self)
        bytes.append(0)
        lastField.removeLast()
    }

    mutating func i32(_ id: Int16, _ value: Int32) {
        header(id, .i32)
        zigzag(Int64(value))
    }

    mutating func i64(_ id: Int16, _ value: Int64) {
        header(id, .i64)
        zigzag(value)
    }

    mutating func string(_ id: Int16, _ value: String) {
        header(id, .binary)
        binary(value)
    }

    private mutating func binary(_ value: String) {
        let utf8 = Array(value.utf8)
        varint(UInt64(utf8.count))
        bytes += utf8
    }

    mutating func field(_ id: Int16, struct body: (inout ThriftCompactWriter) -> Void) {
        header(id, .structure)
        structure(body)
    }

    private mutating func listHeader(_ count: Int, _ kind: Kind) {
        if count < 15 {
            bytes.append(UInt8(count) << 4 | kind.rawValue)
        } else {
            bytes.append(0xF0 | kind.rawValue)
            varint(UInt64(count))
        }
    }

    /// A list of `count` structs, each written by `element` in `body`.
    mutating func list(_ id: Int16, of count: Int, _ body: (inout ThriftCompactWriter) -> Void) {
        header(id, .list)
        listHeader(count, .structure)
        body(&self)
    }

    mutating func element(_ body: (inout ThriftCompactWriter) -> Void) {
        structure(body)
    }

    mutating func i32List(_ id: Int16, _ values: [Int32]) {
        header(id, .list)
        listHeader(values.count, .i32)
        for value in values { zigzag(Int64(value)) }
    }

    mutating func stringList(_ id: Int16, _ values: [String]) {
        header(id, .list)
        listHeader(values.count, .binary)
        for value in values { binary(value) }
    }
}
