using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Client;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace ChatOpsInspector.Teams;

/// <summary>
/// The bot's own access token for the Bot Connector (client credentials, scope api.botframework.com),
/// cached until five minutes before it expires. Never logged.
/// </summary>
internal sealed partial class BotTokenProvider(
    IOptions<TeamsOptions> options,
    IHttpClientFactory httpClients,
    TimeProvider time,
    ILogger<BotTokenProvider> logger) : IDisposable
{
    public const string HttpClientName = "teams-token";
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(5);

    private readonly TeamsOptions _options = options.Value;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (string Token, DateTimeOffset ExpiresAt)? _cached;
    private IConfidentialClientApplication? _msal;

    public async Task<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (Fresh() is { } token)
        {
            return token;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (Fresh() is { } again)
            {
                return again;
            }
            var (value, expiresAt) = string.IsNullOrWhiteSpace(_options.TokenEndpoint)
                ? await FromMsalAsync(cancellationToken)
                : await FromEndpointAsync(_options.TokenEndpoint, cancellationToken);
            _cached = (value, expiresAt);
            LogTokenAcquired(expiresAt);
            return value;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>Forgets the cached token, after the connector refused it (401).</summary>
    public void Invalidate() => _cached = null;

    private string? Fresh() => _cached is { } c && c.ExpiresAt - RenewBefore > time.GetUtcNow() ? c.Token : null;

    private async Task<(string, DateTimeOffset)> FromMsalAsync(CancellationToken cancellationToken)
    {
        _msal ??= ConfidentialClientApplicationBuilder.Create(_options.AppId)
            .WithClientSecret(_options.AppPassword)
            .WithAuthority($"https://login.microsoftonline.com/{(string.IsNullOrWhiteSpace(_options.TenantId) ? "botframework.com" : _options.TenantId)}")
            .Build();
        var result = await _msal.AcquireTokenForClient([TeamsOptions.BotFrameworkScope]).ExecuteAsync(cancellationToken);
        return (result.AccessToken, result.ExpiresOn);
    }

    /// <summary>
    /// The plain OAuth 2.0 client-credentials POST, used when Teams:TokenEndpoint overrides the
    /// authority: MSAL only accepts HTTPS authorities it can run instance discovery against, so it
    /// cannot be pointed at a proxy's or a test's token endpoint.
    /// </summary>
    private async Task<(string, DateTimeOffset)> FromEndpointAsync(string endpoint, CancellationToken cancellationToken)
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = _options.AppId!,
            ["client_secret"] = _options.AppPassword!,
            ["scope"] = TeamsOptions.BotFrameworkScope,
        });
        using var response = await httpClients.CreateClient(HttpClientName).PostAsync(endpoint, content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Token endpoint answered {(int)response.StatusCode}.", null, response.StatusCode);
        }
        var body = await response.Content.ReadFromJsonAsync(TeamsJson.Default.TokenResponse, cancellationToken);
        if (body?.AccessToken is not { Length: > 0 } token)
        {
            throw new JsonException("Token endpoint answered without access_token.");
        }
        return (token, time.GetUtcNow().AddSeconds(Math.Max(60, body.ExpiresIn)));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Bot Connector token acquired, valid until {ExpiresAt}")]
    private partial void LogTokenAcquired(DateTimeOffset expiresAt);
}
