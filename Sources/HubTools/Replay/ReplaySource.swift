import Foundation
import HubDomain
@_spi(Storage) import HubEventLog
import HubSQLite
import HubVault

/// Where `hubstore replay` reads from: a data directory (read in one snapshot, while a server may
/// keep writing to it) or an export bundle of a whole log (verified as it is read). The plan's sealed
/// values are opened with the source's master key: the directory's own `master.key`, or the file
/// given; without one the configuration can still be replayed, its secrets left to enter again.
public struct ReplaySource: Sendable {
    public var path: String
    public var masterKeyFile: String?

    public init(path: String, masterKeyFile: String? = nil) {
        self.path = path
        self.masterKeyFile = masterKeyFile
    }

    /// The plan with its sealed values opened where the key allows.
    public struct Loaded: Sendable {
        public var plan: ReplayPlan
        /// Whether a master key was available.
        public var hasMasterKey: Bool
        /// `<kind>/<id>` of the resources whose secrets stayed sealed.
        public var sealedSecrets: Set<String>
        /// Where the asset files are, by SHA-256.
        public var assetsDirectory: String
    }

    /// Reads the plan (on a thread of its own) and runs `body` with it; a `.tar` bundle stays unpacked
    /// until `body` returns, for its asset files.
    public func withPlan<T: Sendable>(
        _ filters: ReplayFilters,
        progress: @escaping @Sendable (Int64) -> Void = { _ in },
        _ body: (Loaded) async throws -> T
    ) async throws -> T {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReplayError("\(path) does not exist")
        }
        let isDataDirectory =
            isDirectory.boolValue && FileManager.default.fileExists(atPath: DataDirectory(path: path).databasePath)
        if isDataDirectory {
            let loaded = try await onOwnThread { [self] in try loadDataDirectory(filters, progress: progress) }
            return try await body(loaded)
        }
        return try await BundleLocation.withDirectoryAsync(of: path) { directory in
            let loaded = try await onOwnThread { [self] in try loadBundle(directory, filters, progress: progress) }
            return try await body(loaded)
        }
    }

    // MARK: - Reading

    private func loadDataDirectory(_ filters: ReplayFilters, progress: (Int64) -> Void) throws -> Loaded {
        let directory = DataDirectory(path: path)
        let connection = try BundleFiles.openQueryOnly(directory.databasePath)
        defer { connection.close() }
        // One snapshot for the events and the keys.
        try connection.execute(sql: "BEGIN DEFERRED")
        defer { connection.rollbackQuietly() }
        var builder = ReplayPlanBuilder(filters: filters)
        let statement = try connection.prepare(sql: "SELECT \(EventLog.columns) FROM events ORDER BY position")
        var count: Int64 = 0
        while try statement.step() {
            guard try builder.take(EventLog.decode(statement)) else { break }
            count += 1
            if count % 8192 == 0 { progress(count) }
        }
        let keyFile = masterKeyFile ?? directory.path + "/master.key"
        let vault = try Self.vault(keyFile, required: masterKeyFile != nil)
        let lookup = try connection.prepare(sql: "SELECT wrapped FROM vault_keys WHERE id = ?")
        return try Self.opened(builder.plan(), vault: vault, assets: directory.path + "/assets") { record in
            lookup.reset()
            try lookup.bind(record, at: 1)
            return try lookup.step() ? lookup.blob(at: 0) : nil
        }
    }

    private func loadBundle(_ directory: String, _ filters: ReplayFilters, progress: (Int64) -> Void) throws -> Loaded {
        let manifest = try BundleFiles.readManifest(in: directory)
        guard !manifest.filtered else {
            throw ReplayError(
                "a filtered export holds only part of the log: replay a whole-log export, "
                    + "with --account, --since or --until"
            )
        }
        var builder = ReplayPlanBuilder(filters: filters)
        var reading = true
        _ = try BundleVerifier.verify(
            directory: directory,
            progress: { done, _ in progress(done) },
            each: { event in if reading { reading = try builder.take(event) } }
        )
        let vault = try masterKeyFile.map { try Self.vault($0, required: true) } ?? nil
        var keys: [String: [UInt8]] = [:]
        if vault != nil {
            try NDJSONLines.read(directory + "/keys.ndjson") { line, number in
                let value = try JSONValue.parse(line)
                guard let record = value["record"]?.stringValue, let text = value["wrapped"]?.stringValue,
                    let wrapped = Data(base64Encoded: text)
                else { throw BundleError("keys.ndjson line \(number) is damaged") }
                keys[record] = Array(wrapped)
            }
        }
        return try Self.opened(builder.plan(), vault: vault, assets: directory + "/assets") { keys[$0] }
    }

    private static func vault(_ keyFile: String, required: Bool) throws -> SecretVault? {
        guard let data = FileManager.default.contents(atPath: keyFile) else {
            if required { throw ReplayError("cannot read the master key file \(keyFile)") }
            return nil
        }
        guard data.count == 32 else { throw ReplayError("\(keyFile) is not a master key (32 bytes)") }
        return SecretVault(masterKey: MasterKey(bytes: Array(data)))
    }

    // MARK: - Opening

    /// Opens what the plan carries sealed: the resources' secrets, the customers, the contents.
    private static func opened(
        _ sealed: ReplayPlan,
        vault: SecretVault?,
        assets: String,
        wrappedKey: (String) throws -> [UInt8]?
    ) throws -> Loaded {
        var plan = sealed
        var sealedSecrets: Set<String> = []
        func open(_ text: String, _ record: String) throws -> String? {
            guard let vault, SecretVault.isSealed(text) else { return nil }
            do {
                // The record's own key, or the conversation content key its key is derived from.
                return try vault.open(text, record: record, wrappedKeys: wrappedKey)
            } catch SecretVault.SealingError.keyDestroyed {
                return nil
            }
        }
        for index in plan.resources.indices {
            let resource = plan.resources[index]
            let record = "\(resource.kind.itemName)/\(resource.id)"
            plan.resources[index].state = try resource.state.mappingStrings(at: resource.kind.schema.secretPaths) {
                value,
                _ in
                guard SecretVault.isSealed(value) else { return .string(value) }
                guard let opened = try open(value, record) else {
                    sealedSecrets.insert(record)
                    return .string(value)
                }
                return .string(opened)
            }
        }
        if vault != nil {
            for index in plan.conversations.indices {
                let conversation = plan.conversations[index]
                let customerRecord = "customer/\(conversation.customer)"
                plan.conversations[index].identity = try conversation.identity.flatMap { try open($0, customerRecord) }
                for (position, message) in conversation.messages.enumerated() {
                    var opened = message
                    opened.content = try message.content.flatMap { try open($0, "message/\(message.id)") }
                    if case .string(let participant)? = message.sender["participant"],
                        case .object(var fields) =
                            message.sender
                    {
                        fields["participant"] = try open(participant, customerRecord).flatMap {
                            try? JSONValue.parse($0)
                        }
                        opened.sender = .object(fields)
                    }
                    plan.conversations[index].messages[position] = opened
                }
            }
        }
        return Loaded(plan: plan, hasMasterKey: vault != nil, sealedSecrets: sealedSecrets, assetsDirectory: assets)
    }
}

/// A replay that cannot go on, with the reason.
public struct ReplayError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
