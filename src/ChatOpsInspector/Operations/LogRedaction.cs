using System.Collections;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChatOpsInspector.Operations;

/// <summary>
/// Keeps secrets out of every log line, whatever the log level and whichever appsettings file was (or
/// was not) loaded: every logger the host creates passes its message, fields and exception text through
/// <see cref="LogRedactor"/>, and HTTP clients do not log request URLs (a Slack response_url is a
/// capability: whoever holds it can post into the channel for 30 minutes).
/// </summary>
internal static class LogRedaction
{
    public static IHostApplicationBuilder AddLogRedaction(this IHostApplicationBuilder builder)
    {
        // IHttpClientFactory's default loggers write "Sending HTTP request POST {full URL}" at Information.
        builder.Services.ConfigureHttpClientDefaults(http => http.RemoveAllLoggers());

        var redactor = LogRedactor.From(builder.Configuration);
        builder.Services.AddSingleton(redactor);
        // Wrap the factory, not each provider, so that provider-specific filters (Logging:Console:…) still apply.
        var original = builder.Services.LastOrDefault(d => d.ServiceType == typeof(ILoggerFactory));
        if (original is { ImplementationType: { } factoryType } && factoryType == typeof(LoggerFactory))
        {
            builder.Services.TryAddSingleton<LoggerFactory>();
            builder.Services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(sp =>
                new RedactingLoggerFactory(sp.GetRequiredService<LoggerFactory>(), redactor)));
        }
        return builder;
    }
}

/// <summary>Replaces configured secret values and secret-bearing patterns with <c>***</c>.</summary>
internal sealed partial class LogRedactor(IReadOnlyList<string> secrets)
{
    public const string Mask = "***";

    /// <summary>Last segments of configuration keys whose values are secrets.</summary>
    [GeneratedRegex(@"(Password|Secret|Token|ApiKey|ExternalId|ConnectionString)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretKeyName();

    // Slack response_url and incoming-webhook URLs: hooks.slack.com and its Enterprise Grid/GovSlack forms.
    [GeneratedRegex(@"https://hooks\.[a-z0-9.-]*slack(-gov)?\.com/[^\s""'<>]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SlackHookUrl();

    // user:password@ in any URI (redis://, rediss://, https://).
    [GeneratedRegex(@"(?<scheme>[a-z][a-z0-9+.-]*://)[^/@\s""']*@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UriUserInfo();

    // password=… in StackExchange.Redis configuration strings.
    [GeneratedRegex(@"(?<key>password\s*=\s*)[^,\s""']*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordSetting();

    // Slack tokens (xoxb-, xoxp-, xapp-, …) wherever they come from.
    [GeneratedRegex(@"\bx(ox[abeoprs]|app)-[A-Za-z0-9-]{6,}", RegexOptions.CultureInvariant)]
    private static partial Regex SlackToken();

    public static LogRedactor From(IConfiguration configuration)
    {
        var secrets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in configuration.AsEnumerable())
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }
            var name = key[(key.LastIndexOf(':') + 1)..];
            if (SecretKeyName().IsMatch(name) && value.Length >= 6)
            {
                secrets.Add(value);
            }
            if (string.Equals(key, "State:Redis", StringComparison.OrdinalIgnoreCase))
            {
                secrets.UnionWith(RedisSecrets(value));
            }
        }
        // Longest first, so that a secret containing another is masked whole.
        return new LogRedactor(secrets.OrderByDescending(s => s.Length).ToArray());
    }

    /// <summary>The password (and the whole value) of a Redis setting, in either of its forms.</summary>
    private static IEnumerable<string> RedisSecrets(string value)
    {
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            var password = colon < 0 ? uri.UserInfo : uri.UserInfo[(colon + 1)..];
            if (password.Length > 0)
            {
                yield return password;
                yield return Uri.UnescapeDataString(password);
            }
        }
        foreach (Match match in PasswordSetting().Matches(value))
        {
            var password = match.Value[match.Groups["key"].Length..];
            if (password.Length > 0)
            {
                yield return password;
            }
        }
    }

    public string Redact(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }
        foreach (var secret in secrets)
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, Mask, StringComparison.Ordinal);
            }
        }
        text = SlackHookUrl().Replace(text, "https://hooks.slack.com/" + Mask);
        text = UriUserInfo().Replace(text, m => m.Groups["scheme"].Value + Mask + "@");
        text = PasswordSetting().Replace(text, m => m.Groups["key"].Value + Mask);
        return SlackToken().Replace(text, "xox-" + Mask);
    }

    public object? Redact(object? value) => value switch
    {
        null => null,
        string s => Redact(s),
        Uri u => Redact(u.ToString()),
        Exception e => Redact(e.ToString()),
        _ when value.GetType().IsPrimitive || value is Enum or DateTimeOffset or DateTime or TimeSpan or decimal or Guid => value,
        IEnumerable sequence and not IDictionary => string.Join(", ", sequence.Cast<object?>().Select(o => Redact(o?.ToString() ?? ""))),
        _ => Redact(value.ToString() ?? ""),
    };
}

internal sealed class RedactingLoggerFactory(ILoggerFactory inner, LogRedactor redactor) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName), redactor);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The inner factory is a container singleton of its own and is disposed by the container.
    public void Dispose()
    {
    }
}

internal sealed class RedactingLogger(ILogger inner, LogRedactor redactor) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!inner.IsEnabled(logLevel))
        {
            return;
        }
        var message = redactor.Redact(formatter(state, exception));
        var fields = state as IReadOnlyList<KeyValuePair<string, object?>>;
        inner.Log(
            logLevel,
            eventId,
            new RedactedState(message, fields, redactor),
            exception is null ? null : new RedactedException(exception, redactor),
            static (s, _) => s.Message);
    }
}

/// <summary>The fields of a log call, with string values redacted; the message template is kept as written.</summary>
internal sealed class RedactedState(string message, IReadOnlyList<KeyValuePair<string, object?>>? fields, LogRedactor redactor)
    : IReadOnlyList<KeyValuePair<string, object?>>
{
    public string Message => message;

    public int Count => fields?.Count ?? 0;

    public KeyValuePair<string, object?> this[int index]
    {
        get
        {
            var field = fields![index];
            return field.Key == "{OriginalFormat}" ? field : new(field.Key, redactor.Redact(field.Value));
        }
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => message;
}

/// <summary>
/// Stands in for a logged exception: log formatters print <see cref="ToString"/>, which here is the
/// original's text (type, message, inner exceptions, stack) redacted.
/// </summary>
internal sealed class RedactedException(Exception original, LogRedactor redactor)
    : Exception(redactor.Redact(original.Message))
{
    public Type OriginalType => original.GetType();

    public override string? StackTrace => original.StackTrace;

    public override string ToString() => redactor.Redact(original.ToString());
}
