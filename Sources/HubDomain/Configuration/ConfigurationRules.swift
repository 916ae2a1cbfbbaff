/// What the configuration rules need to know of the configuration as it stands (the read model
/// inside the writer's transaction; a dictionary in tests).
public protocol ConfigurationSnapshot {
    /// A resource's current state, or `nil`.
    func state(_ kind: ResourceKind, id: String) throws -> JSONValue?
    /// The resource of `kind` whose unique name (or channel type) is `key`, compared case-insensitively.
    func resource(_ kind: ResourceKind, withUniqueKey key: String) throws -> String?
    /// The first resource (kind name and id) that refers to `kind`/`id`.
    func firstReferrer(to kind: ResourceKind, id: String) throws -> (kind: String, id: String)?
    /// Another active account (not `id`) with `address` on a channel of the type of channel `channelId`.
    func activeAccount(otherThan id: String, address: String, channelTypeOf channelId: String) throws -> String?
}

/// The rules a configuration change must keep (spec §2–§3), decided over a snapshot: names are unique
/// per kind, references point at active resources (a participant's application has its role), an
/// account route (channel type, address) belongs to one active account, and nothing referred to is
/// deleted. Pure: the snapshot is the only thing it reads.
public enum ConfigurationRules {
    /// Refuses writing `body` as resource `id` of `kind` when it would break a rule.
    public static func checkWrite(
        _ kind: ResourceKind,
        id: String,
        body: JSONValue,
        in snapshot: some ConfigurationSnapshot
    ) throws {
        let uniqueValue = body[kind.uniqueField]?.stringValue ?? ""
        if let other = try snapshot.resource(kind, withUniqueKey: uniqueValue), other != id {
            throw Rejection(
                .duplicate,
                "Duplicate name: \(kind.displayName) \(other) already has \(kind.uniqueField) '\(uniqueValue)'.",
                details: [.init(key: kind.uniqueField, value: uniqueValue)]
            )
        }
        for (path, target) in kind.references {
            for targetId in body.strings(at: path) {
                guard let state = try snapshot.state(target, id: targetId), state["active"] != .bool(false) else {
                    throw Rejection(
                        .unknownReference,
                        "Referenced \(target.displayName.lowercased()) \(targetId) does not exist or is inactive.",
                        details: [.init(key: path.replacing("[]", with: ""), value: targetId)]
                    )
                }
                if kind == .participant, let type = body["type"]?.stringValue,
                    !state.strings(at: "roles[].name").contains(type)
                {
                    throw Rejection.invalidValue(
                        "application.id",
                        "client application \(targetId) has no role '\(type)'"
                    )
                }
            }
        }
        if kind == .account { try checkAccountRoute(body, id: id, in: snapshot) }
    }

    /// Refuses deleting resource `id` of `kind` when it does not exist or something refers to it.
    public static func checkDelete(_ kind: ResourceKind, id: String, in snapshot: some ConfigurationSnapshot) throws {
        guard try snapshot.state(kind, id: id) != nil else { throw Rejection.notFound(kind, id) }
        if let referrer = try snapshot.firstReferrer(to: kind, id: id) {
            let user = ResourceKind(rawValue: referrer.kind)?.displayName ?? referrer.kind
            throw Rejection(
                .inUse,
                "\(kind.displayName) \(id) is in use by \(user) \(referrer.id) and cannot be deleted.",
                details: [.init(key: referrer.kind, value: referrer.id)]
            )
        }
    }

    /// (channel type, address) routes customer messages, so it is unique among active accounts (spec §3.6).
    static func checkAccountRoute(_ body: JSONValue, id: String, in snapshot: some ConfigurationSnapshot) throws {
        guard body["active"] != .bool(false), let channelId = body.value(at: "channel.id")?.stringValue,
            let address = body["address"]?.stringValue
        else { return }
        if let other = try snapshot.activeAccount(otherThan: id, address: address, channelTypeOf: channelId) {
            throw Rejection(
                .duplicate,
                "Duplicate account route: active account \(other) already has this channel type and address.",
                details: [.init(key: "address", value: address)]
            )
        }
    }
}

extension Rejection {
    /// No such resource.
    public static func notFound(_ kind: ResourceKind, _ id: String) -> Rejection {
        Rejection(
            .notFound,
            "\(kind.displayName) with id \(id) was not found.",
            details: [.init(key: "id", value: id)]
        )
    }
}
