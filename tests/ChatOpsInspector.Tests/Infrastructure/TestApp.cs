using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace ChatOpsInspector.Tests.Infrastructure;

/// <summary>
/// The real bot on Kestrel at 127.0.0.1 with the given configuration. Nothing in the bot knows it is
/// under test: fakes are reached through the configurable base URLs.
/// </summary>
public sealed class TestApp : WebApplicationFactory<Program>
{
    public const string ApiKey = "test-ingest-key-0123456789";
    public const string AuditKey = "test-audit-key-9876543210";

    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private readonly string _environment;

    /// <param name="environment">The host environment (Development, Production…); Testing unless a test is about it.</param>
    public TestApp(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, string environment = "Testing")
    {
        _environment = environment;
        _settings = new Dictionary<string, string?>
        {
            ["Ingest:ApiKey"] = ApiKey,
            ["Audit:ApiKey"] = AuditKey,
            ["Dispatch:PollInterval"] = "00:00:00.020",
            ["Dispatch:ChannelInterval"] = "00:00:00",
            ["Dispatch:RetryBackoff"] = "00:00:00.100",
            ["Dispatch:ErrorBackoff"] = "00:00:00.100",
            ["Logging:LogLevel:Default"] = "Warning",
            // A closed loopback port unless a test brings its own fake: no test can reach real AWS.
            ["Aws:Inspector2:ServiceUrl"] = "http://127.0.0.1:9/",
            ["Aws:Ssm:ServiceUrl"] = "http://127.0.0.1:9/",
        };
        foreach (var (key, value) in settings ?? [])
        {
            _settings[key] = value;
        }
        _services = services;
        // A loopback endpoint on a free port. UseKestrel(0) would rewrite the server's addresses after the
        // app has started binding them, a race (dotnet/aspnetcore#67714) that failed a test now and then.
        UseKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        // UseSetting (not ConfigureAppConfiguration) so Program sees the values while it registers services.
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    private readonly Lock _start = new();

    /// <summary>An HTTP client over real sockets to the bot; safe to call from concurrent tasks.</summary>
    public HttpClient Client()
    {
        lock (_start)
        {
            StartServer();
        }
        return CreateClient();
    }

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    public async Task<HttpResponseMessage> PostEventsAsync(string json, string? apiKey = ApiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/inspector/events")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }
        return await Client().SendAsync(request);
    }

    /// <summary>Settings for a Redis-backed app on <paramref name="redis"/> with a fresh key prefix.</summary>
    public static Dictionary<string, string?> WithRedis(RedisServer redis, Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["State:Redis"] = redis.ConnectionString,
            ["State:KeyPrefix"] = RedisServer.UniquePrefix(),
        };
        foreach (var (k, v) in more ?? [])
        {
            settings[k] = v;
        }
        return settings;
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after the timeout.</summary>
    public static async Task Eventually(Func<Task<bool>> condition, string what, int timeoutMs = 30_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(25);
        }
        Assert.Fail($"Timed out waiting for: {what}");
    }
}
