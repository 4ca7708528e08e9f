using System.Security.Cryptography;
using System.Text;
using ChatOpsInspector.Operations;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Ingest;

/// <summary>
/// Accepts a request when <c>X-Api-Key</c> (or <c>Authorization: Bearer</c>, or Basic when configured)
/// matches, compared in constant time. Refusals are 401 with no detail.
/// </summary>
internal sealed class ApiKeyFilter(IOptionsMonitor<IngestOptions> options) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (IsAuthorized(context.HttpContext.Request, options.CurrentValue))
        {
            return next(context);
        }
        AppMetrics.EventsRejected.WithLabels("auth").Inc();
        return ValueTask.FromResult<object?>(Results.Unauthorized());
    }

    internal static bool IsAuthorized(HttpRequest request, IngestOptions options)
    {
        if (string.IsNullOrEmpty(options.ApiKey) && string.IsNullOrEmpty(options.BasicPassword))
        {
            return false;
        }
        if (!string.IsNullOrEmpty(options.ApiKey) && PresentsKey(request, options.ApiKey))
        {
            return true;
        }
        var authorization = request.Headers.Authorization.ToString();
        if (!string.IsNullOrEmpty(options.BasicPassword)
            && authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var expected = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.BasicUser}:{options.BasicPassword}"));
            return FixedTimeEquals(authorization["Basic ".Length..].Trim(), expected);
        }
        return false;
    }

    /// <summary>True when <c>X-Api-Key</c> or <c>Authorization: Bearer</c> carries <paramref name="expected"/>.</summary>
    internal static bool PresentsKey(HttpRequest request, string expected)
    {
        if (request.Headers.TryGetValue("X-Api-Key", out var key) && key.Count == 1 && FixedTimeEquals(key[0], expected))
        {
            return true;
        }
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && FixedTimeEquals(authorization["Bearer ".Length..].Trim(), expected);
    }

    /// <summary>Constant-time over the hashes, so neither content nor length leaks through timing.</summary>
    internal static bool FixedTimeEquals(string? given, string expected)
    {
        if (given is null)
        {
            return false;
        }
        var a = SHA256.HashData(Encoding.UTF8.GetBytes(given));
        var b = SHA256.HashData(Encoding.UTF8.GetBytes(expected));
        return CryptographicOperations.FixedTimeEquals(a, b);
    }
}
