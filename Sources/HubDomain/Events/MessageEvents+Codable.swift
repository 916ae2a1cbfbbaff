// What the message events' stored JSON leaves out, and how their readers give it back: a
// `message.received` does not say its conversation (its stream does), and the delivery that has its
// message's own id does not say that id, nor does a delivery written by reference say its application
// and participant. The direct reader and writer (EventJSONReader/Writer) and
// these Codable forms follow the same rules.

extension MessageReceived {
    package mutating func scope(to stream: String) {
        guard conversation.isEmpty, let id = Self.conversation(ofStream: stream) else { return }
        conversation = id
    }

    /// The conversation whose stream (`conversation/<id>`) this is.
    package static func conversation(ofStream stream: String) -> String? {
        stream.hasPrefix("conversation/") ? String(stream.dropFirst("conversation/".count)) : nil
    }

    private enum CodingKeys: String, CodingKey {
        case id, conversation, messageId, type, sender, content, created, attributes, routing
    }

    /// As ``read(_:)``: the delivery written without an id has the message's, and the conversation
    /// comes from the stream when the data does not say it (``scope(to:)``).
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        let conversation = try container.decodeIfPresent(String.self, forKey: .conversation)
        self.conversation = conversation ?? ""
        conversationWritten = conversation != nil
        messageId = try container.decode(String.self, forKey: .messageId)
        type = try container.decode(MessageTypeValue.self, forKey: .type)
        sender = try container.decode(JSONValue.self, forKey: .sender)
        content = try container.decode(String.self, forKey: .content)
        created = try container.decodeIfPresent(String.self, forKey: .created)
        attributes = try container.decodeIfPresent(JSONValue.self, forKey: .attributes)
        routing = try container.decodeIfPresent(Routing.self, forKey: .routing)
        if let deliveries = routing?.deliveries {
            routing?.deliveries = try MessageRouted.Delivery.identified(deliveries, message: id)
        }
    }

    /// As ``write(to:)``: without the id of the delivery that has the message's.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        if conversationWritten { try container.encode(conversation, forKey: .conversation) }
        try container.encode(messageId, forKey: .messageId)
        try container.encode(type, forKey: .type)
        try container.encode(sender, forKey: .sender)
        try container.encode(content, forKey: .content)
        try container.encodeIfPresent(created, forKey: .created)
        try container.encodeIfPresent(attributes, forKey: .attributes)
        if var routing {
            routing.deliveries = MessageRouted.Delivery.unidentified(routing.deliveries, message: id)
            try container.encode(routing, forKey: .routing)
        }
    }
}

extension MessageRouted.Delivery {
    private enum CodingKeys: String, CodingKey {
        case id, application, type, participant
    }

    /// `id` is absent for the delivery that has its message's id: the event's reader gives it
    /// (``identified(_:message:)``), and its writer leaves it out (``unidentified(_:message:)``).
    /// `application` is absent for a delivery written by reference (``byReference``).
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id) ?? ""
        let application = try container.decodeIfPresent(String.self, forKey: .application)
        self.application = application ?? ""
        byReference = application == nil
        type = try container.decode(String.self, forKey: .type)
        participant = byReference ? nil : try container.decodeIfPresent(Participant.self, forKey: .participant)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if !id.isEmpty { try container.encode(id, forKey: .id) }
        if !byReference { try container.encode(application, forKey: .application) }
        try container.encode(type, forKey: .type)
        if !byReference { try container.encodeIfPresent(participant, forKey: .participant) }
    }

    /// The deliveries as written: the one with the message's id without it.
    static func unidentified(_ deliveries: [Self], message: String) -> [Self] {
        deliveries.map { delivery in
            var delivery = delivery
            if delivery.id == message { delivery.id = "" }
            return delivery
        }
    }

    /// The deliveries as read, the one written without an id given its message's: at most one.
    static func identified(_ deliveries: [Self], message: String) throws -> [Self] {
        var deliveries = deliveries
        var unnamed = false
        for index in deliveries.indices where deliveries[index].id.isEmpty {
            guard !unnamed else {
                throw EventFieldError(key: "deliveries[].id", expected: "given for all but one delivery")
            }
            unnamed = true
            deliveries[index].id = message
        }
        return deliveries
    }
}

extension MessageRouted {
    private enum CodingKeys: String, CodingKey {
        case message, conversation, seq, state, deliveries, configuration, configurationGeneration
    }

    /// As ``read(_:)``: the delivery written without an id has the message's.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        message = try container.decode(String.self, forKey: .message)
        conversation = try container.decode(String.self, forKey: .conversation)
        seq = try container.decode(Int64.self, forKey: .seq)
        state = try container.decode(String.self, forKey: .state)
        deliveries = try MessageRouted.Delivery.identified(
            try container.decode([Delivery].self, forKey: .deliveries),
            message: message
        )
        configuration = try container.decodeIfPresent(Configuration.self, forKey: .configuration)
        configurationGeneration = try container.decodeIfPresent(Int64.self, forKey: .configurationGeneration)
    }

    /// As ``write(to:)``: without the id of the delivery that has the message's.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(message, forKey: .message)
        try container.encode(conversation, forKey: .conversation)
        try container.encode(seq, forKey: .seq)
        try container.encode(state, forKey: .state)
        try container.encode(Delivery.unidentified(deliveries, message: message), forKey: .deliveries)
        try container.encodeIfPresent(configuration, forKey: .configuration)
        try container.encodeIfPresent(configurationGeneration, forKey: .configurationGeneration)
    }
}
