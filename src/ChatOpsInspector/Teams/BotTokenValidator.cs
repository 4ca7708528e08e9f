using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace ChatOpsInspector.Teams;

/// <summary>What a valid Bot Framework token vouches for.</summary>
internal sealed record BotIdentity(string? ServiceUrl, string KeyId, IReadOnlyList<string> Endorsements);

/// <summary>
/// Validates the JWT the Bot Connector sends with each activity: signed by a key from the Bot
/// Framework OpenID metadata, issued by api.botframework.com, for this bot's app id, within its
/// lifetime. Signing keys are cached and re-read once when a token names a key we have not seen.
/// As in Bot Builder, a token is only good when its <c>kid</c> names a key of the set and that key
/// carries endorsements (the channels it may sign for); anything less is refused, never waved through.
/// </summary>
internal sealed partial class BotTokenValidator
{
    private readonly TeamsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<BotTokenValidator> _logger;
    private readonly ConfigurationManager<OpenIdConnectConfiguration> _metadata;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public BotTokenValidator(IOptions<TeamsOptions> options, TimeProvider time, ILogger<BotTokenValidator> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        var url = _options.OpenIdMetadataUrl;
        // Only a loopback metadata server (local runs, tests) may be plain http; anything else must be https.
        var loopbackHttp = Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback;
        _metadata = new ConfigurationManager<OpenIdConnectConfiguration>(
            url,
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever { RequireHttps = !loopbackHttp });
    }

    /// <summary>The identity the token proves, or null for any invalid, missing or unverifiable token.</summary>
    public async Task<BotIdentity?> ValidateAsync(string? authorization, CancellationToken cancellationToken)
    {
        if (!_options.IsConfigured
            || authorization is null
            || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var token = authorization["Bearer ".Length..].Trim();
        if (token.Length == 0 || token.Length > 16 * 1024)
        {
            return null;
        }
        try
        {
            var config = await _metadata.GetConfigurationAsync(cancellationToken);
            var result = await _handler.ValidateTokenAsync(token, Parameters(config));
            if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException)
            {
                // Keys roll over: a token signed with a key newer than our cache earns one refresh.
                config = await RefreshAsync(config, cancellationToken);
                result = await _handler.ValidateTokenAsync(token, Parameters(config));
            }
            if (!result.IsValid)
            {
                LogRejected(result.Exception?.GetType().Name ?? "invalid");
                return null;
            }
            var jwt = (JsonWebToken)result.SecurityToken;
            // IdentityModel tries every key when the kid matches none, so the kid is checked here.
            if (Endorsements(config, jwt.Kid) is not { Length: > 0 } endorsements)
            {
                LogRejected("signing key unknown or without endorsements");
                return null;
            }
            var serviceUrl = jwt.TryGetPayloadValue<string>("serviceurl", out var s) ? s : null;
            return new BotIdentity(serviceUrl, jwt.Kid, endorsements);
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or IOException or ArgumentException or SecurityTokenException)
        {
            // Metadata unreachable or token unreadable: refuse; the connector retries.
            LogValidationFailed(ex.GetType().Name);
            return null;
        }
    }

    /// <summary>
    /// Asks for fresh metadata and waits briefly for it: IdentityModel 8 fetches refreshed metadata in
    /// the background, so the first read after <see cref="ConfigurationManager{T}.RequestRefresh"/> may
    /// still return the cached keys.
    /// </summary>
    private async Task<OpenIdConnectConfiguration> RefreshAsync(OpenIdConnectConfiguration stale, CancellationToken cancellationToken)
    {
        _metadata.RequestRefresh();
        var deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(3);
        while (true)
        {
            var config = await _metadata.GetConfigurationAsync(cancellationToken);
            if (!ReferenceEquals(config, stale) || _time.GetUtcNow() >= deadline)
            {
                return config;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken);
        }
    }

    private TokenValidationParameters Parameters(OpenIdConnectConfiguration config) => new()
    {
        ValidIssuer = TeamsOptions.BotFrameworkIssuer,
        ValidAudience = _options.AppId,
        IssuerSigningKeys = config.SigningKeys,
        ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateIssuerSigningKey = true,
        ClockSkew = _options.ClockSkew,
        LifetimeValidator = ValidateLifetime,
    };

    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        if (expires is not { } exp || exp.ToUniversalTime() < now - parameters.ClockSkew)
        {
            return false;
        }
        return notBefore is not { } nbf || nbf.ToUniversalTime() <= now + parameters.ClockSkew;
    }

    /// <summary>Channels the signing key is endorsed for (the JWKS "endorsements" extension); null for a key not in the set or listing none.</summary>
    private static string[]? Endorsements(OpenIdConnectConfiguration config, string? kid)
    {
        var key = string.IsNullOrEmpty(kid) ? null : config.JsonWebKeySet?.Keys.FirstOrDefault(k => string.Equals(k.Kid, kid, StringComparison.Ordinal));
        if (key is null || !key.AdditionalData.TryGetValue("endorsements", out var value) || value is null)
        {
            return null;
        }
        return value switch
        {
            JsonElement { ValueKind: JsonValueKind.Array } array => array.EnumerateArray()
                .Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).Where(e => e.Length > 0).ToArray(),
            IEnumerable<object> items => items.OfType<string>().Where(e => e.Length > 0).ToArray(),
            string { Length: > 0 } single => [single],
            _ => null,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Bot Framework token rejected: {Reason}")]
    private partial void LogRejected(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot Framework token could not be validated: {Reason}")]
    private partial void LogValidationFailed(string reason);
}
