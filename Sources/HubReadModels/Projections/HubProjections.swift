@_spi(Storage) public import HubEventLog
public import HubVault

/// The read models of a hub, in the order each event applies to them.
public enum HubProjections {
    /// Every projection of a hub: configuration, routing configurations, clients, transcripts, the
    /// outbox, assets, search, metrics, connector apps, connector conversations. `vault`
    /// opens the sealed content the transcripts show.
    public static func registry(vault: SecretVault) -> ProjectionRegistry {
        ProjectionRegistry(
            [
                ConfigurationProjection(), RoutingProjection(), ClientsProjection(), TranscriptsProjection(),
                ConnectorAppsProjection(),
                ConnectorProjection(), OutboxProjection(), AssetsProjection(), SearchProjection(), MetricsProjection(),
            ],
            vault: vault
        )
    }
}
