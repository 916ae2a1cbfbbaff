import HubDomain

/// The webhook bodies of LivePerson's Connector API (connector spec §8.3, §8.4), one change each.
enum ConnectorNotifications {
    /// `ms.MessagingEventNotification` for a published event. `content` is the content of the message
    /// the event names (its text, file or rich content), when it names one.
    static func messaging(
        _ published: ConnectorEventPublished,
        content: JSONValue?,
        text: String?,
        at time: Int64
    )
        -> JSONValue
    {
        var event = published.event.objectValue ?? [:]
        switch event["type"]?.stringValue {
        case "ContentEvent" where event["contentType"] == "hosted/file":
            event["message"] = content?["value"] ?? .object([:])
        case "ContentEvent":
            event["message"] = .string(text ?? content?["text"]?.stringValue ?? "")
        case "RichContentEvent":
            event["content"] = content?["value"] ?? .object([:])
        default:
            break
        }
        var change: [String: JSONValue] = [
            "originatorId": .string(published.originator.id),
            "originatorMetadata": .object([
                "id": .string(published.originator.id), "role": .string(published.originator.role),
            ]),
            "event": .object(event),
            "conversationId": .string(published.conversation),
            "dialogId": .string(published.dialog),
        ]
        // A chat state has neither (spec §8.3).
        if let sequence = published.sequence {
            change["sequence"] = .integer(sequence)
            change["serverTimestamp"] = .integer(time)
        }
        if let metadata = published.metadata { change["metadata"] = metadata }
        return envelope("ms.MessagingEventNotification", change: .object(change))
    }

    /// `cqm.ExConversationChangeNotification` (an `UPSERT`) with the conversation as it now stands.
    static func conversationChange(_ row: ConnectorConversationRow) -> JSONValue {
        var participants: [JSONValue] = [.object(["id": .string(row.consumer), "role": "CONSUMER"])]
        if let assigned = row.assigned { participants.append(assigned) }
        var dialog: [String: JSONValue] = [
            "dialogId": .string(row.conversation), "participantsDetails": .array(participants), "dialogType": "MAIN",
            "channelType": "MESSAGING", "state": .string(row.state), "creationTs": .integer(row.startedAt),
            "metaDataLastUpdateTs": .integer(row.updatedAt),
        ]
        var details: [String: JSONValue] = [
            "skillId": .string(row.skill ?? "-1"), "participants": .array(participants),
            "brandId": .string(row.account),
            "state": .string(row.state), "stage": .string(row.stage), "startTs": .integer(row.startedAt),
            "metaDataLastUpdateTs": .integer(row.updatedAt),
            "ttr": .object(["ttrType": .string(row.ttrType), "value": .integer(row.ttrValue)]),
        ]
        if let ended = row.endedAt {
            dialog["endTs"] = .integer(ended)
            dialog["closedBy"] = .string(row.closeReason ?? "CONSUMER")
            details["endTs"] = .integer(ended)
            details["closeReason"] = .string(row.closeReason ?? "CONSUMER")
        }
        details["dialogs"] = .array([.object(dialog)])
        if let csat = row.csat { details["csat"] = csat }
        let result: JSONValue = .object([
            "convId": .string(row.conversation), "effectiveTTR": .integer(row.startedAt + row.ttrValue * 1000),
            "conversationDetails": .object(details),
        ])
        return envelope("cqm.ExConversationChangeNotification", change: .object(["type": "UPSERT", "result": result]))
    }

    private static func envelope(_ type: String, change: JSONValue) -> JSONValue {
        .object(["kind": "notification", "type": .string(type), "body": .object(["changes": .array([change])])])
    }
}
