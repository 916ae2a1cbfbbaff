import Crypto
@_spi(Storage) public import HubEventLog

extension LogHeadSigner {
    /// The signer of the data directory whose master key this is (HKDF purpose
    /// `hubstore.log-head-signing.v1`).
    public init(masterKey: MasterKey) {
        self.init(seed: masterKey.derivedKey(purpose: "hubstore.log-head-signing.v1").withUnsafeBytes { Array($0) })
    }
}

extension LogHeadKey {
    /// The key of the data directory whose master key this is.
    public init(masterKey: MasterKey) {
        self = LogHeadSigner(masterKey: masterKey).publicKey
    }
}
