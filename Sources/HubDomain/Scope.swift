/// What a caller's token allows (DESIGN.md §6): the four eGain scopes and HubStore's own four.
public enum Scope: String, CaseIterable, Sendable, Hashable, Comparable {
    /// Create, read, update, delete the configuration resources.
    case manage = "app.conversation.conversationmgr.manage"
    /// Read the configuration resources.
    case read = "app.conversation.conversationmgr.read"
    /// Send messages, create and delete assets, read conversations and assets.
    case interactionManage = "app.conversation.conversationmgr.interaction.manage"
    /// Read conversations and assets.
    case interactionRead = "app.conversation.conversationmgr.interaction.read"
    /// The query API under `/v1`.
    case query = "hubstore.query"
    /// Operations: metrics, clients, exports.
    case admin = "hubstore.admin"
    /// The event feed (`/v1/events`), with sealed content left sealed.
    case audit = "hubstore.audit"
    /// With ``audit``: the feed opens message content and customer identity (except erased ones).
    case auditContent = "hubstore.audit.content"

    /// Parses one scope, bare or with any URL prefix ending in `/`
    /// (`https://api.egain.cloud/auth/app.conversation.conversationmgr.read`).
    public init?(parsing text: String) {
        let bare = text.lastIndex(of: "/").map { String(text[text.index(after: $0)...]) } ?? text
        self.init(rawValue: bare)
    }

    public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A space-separated scope list, as OAuth2 carries it.
public struct ScopeList: Sendable, Equatable {
    public var scopes: Set<Scope>

    public init(_ scopes: Set<Scope>) {
        self.scopes = scopes
    }

    /// Parses `"a b c"`. `.default` (bare or prefixed) stands for `everything`; an unknown scope fails.
    ///
    /// - Returns: the scopes, or the first word that is not a scope.
    public static func parse(
        _ text: String,
        everything: Set<Scope> = Set(Scope.allCases)
    ) -> Result<ScopeList, UnknownScope> {
        var scopes = Set<Scope>()
        for word in text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init) {
            if word == ".default" || word.hasSuffix("/.default") {
                scopes.formUnion(everything)
            } else if let scope = Scope(parsing: word) {
                scopes.insert(scope)
            } else {
                return .failure(UnknownScope(word: word))
            }
        }
        return .success(ScopeList(scopes))
    }

    /// The scopes in a stable order, space-separated.
    public var text: String { scopes.sorted().map(\.rawValue).joined(separator: " ") }
}

/// A word in a scope list that is no known scope.
public struct UnknownScope: Error, Sendable, Equatable, CustomStringConvertible {
    public let word: String

    public init(word: String) {
        self.word = word
    }

    public var description: String {
        "unknown scope '\(word)'; known: " + Scope.allCases.map(\.rawValue).joined(separator: ", ")
    }
}
