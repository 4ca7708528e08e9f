using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Teams;

/// <summary>
/// Local Teams mode, as Bot Builder's <c>IsAuthenticationDisabledAsync</c>: with no app id, a local
/// client such as Microsoft 365 Agents Playground sends activities without a token and expects replies
/// on its own loopback connector without one. Only in the Development environment, only when
/// <c>Teams:LocalDevelopment</c> is on and <c>Teams:AppId</c> is empty, and only for callers and
/// service URLs on this machine.
/// </summary>
internal sealed partial class LocalDevelopmentAuth(IOptions<TeamsOptions> options, IHostEnvironment environment, ILogger<LocalDevelopmentAuth> logger)
{
    /// <summary>What an accepted header-less loopback activity is vouched for by: nothing but its origin.</summary>
    private static readonly BotIdentity Anonymous = new(null, "", []);

    // Reverse proxies and tunnels (dev tunnels, ngrok) reach Kestrel from loopback; these headers say the caller is elsewhere.
    private static readonly string[] ProxyHeaders = ["X-Forwarded-For", "Forwarded", "X-Forwarded-Host", "X-Original-For"];

    public bool Enabled { get; } = IsEnabled(options.Value, environment);

    internal static bool IsEnabled(TeamsOptions options, IHostEnvironment environment) =>
        options.LocalDevelopment && !options.IsConfigured && environment.IsDevelopment();

    /// <summary>
    /// The anonymous identity for a request local mode accepts without a token, else null (the token
    /// validator decides). A request carrying an Authorization header is never taken here.
    /// </summary>
    public BotIdentity? Identify(HttpContext context)
    {
        if (!Enabled || context.Request.Headers.Authorization.Count > 0)
        {
            return null;
        }
        if (context.Connection.RemoteIpAddress is not { } remote || !System.Net.IPAddress.IsLoopback(remote)
            || ProxyHeaders.Any(h => context.Request.Headers.ContainsKey(h)))
        {
            LogNotLocal();
            return null;
        }
        return Anonymous;
    }

    /// <summary>Whether the activity's service URL is acceptable for an identity <see cref="Identify"/> returned.</summary>
    public bool Vouches(BotIdentity identity, string? serviceUrl) =>
        ReferenceEquals(identity, Anonymous) && IsLoopbackConnector(serviceUrl);

    /// <summary>A connector this process may call without a token: local mode on and the URL on this machine.</summary>
    public bool IsLoopbackConnector(string? serviceUrl) =>
        Enabled
        && Uri.TryCreate(serviceUrl, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.IsNullOrEmpty(uri.UserInfo)
        && uri.IsLoopback;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Teams local development mode refused an activity without a token from a non-loopback or proxied caller")]
    private partial void LogNotLocal();
}

/// <summary>Refuses to start with local Teams mode anywhere but Development, naming the keys to change.</summary>
internal sealed class LocalDevelopmentValidator(IHostEnvironment environment) : IValidateOptions<TeamsOptions>
{
    public ValidateOptionsResult Validate(string? name, TeamsOptions options)
    {
        if (!options.LocalDevelopment || environment.IsDevelopment())
        {
            return ValidateOptionsResult.Success;
        }
        return ValidateOptionsResult.Fail(
            $"Teams:LocalDevelopment=true accepts unauthenticated Teams activities and is allowed only when ASPNETCORE_ENVIRONMENT is Development " +
            $"(it is {environment.EnvironmentName}). Set Teams:LocalDevelopment to false, and Teams:AppId and Teams:AppPassword for a real Azure Bot.");
    }
}
