import HubDomain

extension ReplayPlan {
    /// The plan as `replay --dry-run` prints it: what would be created on the target, in order.
    /// `done` is an earlier run's checkpoint: what it already did is marked so.
    public func describe(
        done: ReplayCheckpoint.State = .init(),
        sealedSecrets: Set<String> = [],
        conversationsShown: Int = 20
    ) -> [String] {
        var lines = ["configuration, in setup order (\(resources.count) resources):"]
        for (step, resource) in resources.enumerated() {
            let kind = resource.kind
            let name = resource.state[kind.uniqueField]?.stringValue ?? "?"
            var line = "  \(step + 1). POST /\(kind.pathSegment) \(name) (source \(resource.id))"
            if let mapped = done.ids[kind]?[resource.id] { line += ": done, \(mapped)" }
            if sealedSecrets.contains("\(kind.itemName)/\(resource.id)") {
                line += "; its secrets must be entered again"
            }
            lines.append(line)
        }
        let customers = Set(conversations.map(\.customer)).count
        lines.append(
            "then \(messageCount) messages of \(conversations.count) conversations (\(customers) customers), "
                + "each conversation's in their original order:"
        )
        for conversation in conversations.prefix(conversationsShown) {
            var line =
                "  conversation \(conversation.id): account \(conversation.accountAddress) "
                + "(\(conversation.channelType)), \(conversation.messages.count) messages"
            let types = conversation.messages.prefix(6).map { "\($0.senderType):\($0.type)" }
            line += " [" + types.joined(separator: ", ") + (conversation.messages.count > 6 ? ", …]" : "]")
            if let entry = done.conversations[conversation.id] {
                line += ": \(entry.sent) sent, as \(entry.to)"
            }
            lines.append(line)
        }
        if conversations.count > conversationsShown {
            lines.append("  … and \(conversations.count - conversationsShown) more conversations")
        }
        if !assets.isEmpty { lines.append("assets the messages attach are uploaded before their message") }
        return lines
    }
}
