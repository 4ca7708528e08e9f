using StackExchange.Redis;

namespace ChatOpsInspector.State;

/// <summary>
/// Reads <c>State:Redis</c> in either form operators are given: a StackExchange.Redis configuration
/// string (<c>host:6379,password=…,ssl=true</c>) or a URI (<c>redis://user:password@host:6379/0</c>,
/// <c>rediss://</c> for TLS). StackExchange.Redis takes a URI for a host name and prints it — password
/// included — in every connection error, so URIs are taken apart here.
/// </summary>
internal static class RedisConfiguration
{
    public static ConfigurationOptions Parse(string value)
    {
        var text = value.Trim();
        if (!text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) && !text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            return ConfigurationOptions.Parse(text);
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            // Never echo the value: it may hold the password.
            throw new FormatException("State:Redis is not a valid redis:// or rediss:// URI.");
        }
        var options = new ConfigurationOptions { Ssl = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase) };
        options.EndPoints.Add(uri.Host, uri.IsDefaultPort || uri.Port <= 0 ? 6379 : uri.Port);
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            var user = colon < 0 ? "" : Uri.UnescapeDataString(uri.UserInfo[..colon]);
            var password = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[(colon + 1)..]);
            options.User = user.Length > 0 ? user : null;
            options.Password = password.Length > 0 ? password : null;
        }
        if (uri.AbsolutePath.Trim('/') is { Length: > 0 } database && int.TryParse(database, out var db))
        {
            options.DefaultDatabase = db;
        }
        if (options.Ssl)
        {
            options.SslHost = uri.Host;
        }
        return options;
    }
}
