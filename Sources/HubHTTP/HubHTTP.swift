public enum HubHTTP {}
