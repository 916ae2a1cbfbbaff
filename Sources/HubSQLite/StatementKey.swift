/// A statement cache's key: the SQL text, hashed by its length and four of its 8-byte words.
///
/// Every cached statement is looked up by its text, a few hundred bytes, several times per command:
/// hashing the whole text cost more than the rest of the lookup. Texts that sample alike only share a
/// bucket; equality still compares them whole (at once when both are the same string, as a literal is).
struct StatementKey: Hashable {
    let sql: String

    static func == (lhs: StatementKey, rhs: StatementKey) -> Bool { lhs.sql == rhs.sql }

    func hash(into hasher: inout Hasher) {
        let sampled: Void? = sql.utf8.withContiguousStorageIfAvailable { bytes in
            let count = bytes.count
            hasher.combine(count)
            guard count >= 8 else {
                hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
                return
            }
            let raw = UnsafeRawBufferPointer(bytes)
            func word(at offset: Int) -> UInt64 {
                raw.loadUnaligned(fromByteOffset: min(offset, count - 8), as: UInt64.self)
            }
            hasher.combine(word(at: count / 4))
            hasher.combine(word(at: count / 2))
            hasher.combine(word(at: count * 3 / 4))
            hasher.combine(word(at: count - 8))
        }
        if sampled == nil { hasher.combine(sql) }
    }
}
