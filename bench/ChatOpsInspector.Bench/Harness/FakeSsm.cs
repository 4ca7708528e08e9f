using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>
/// SSM's JSON 1.1 API on loopback, enough for a patch run: DescribeInstanceInformation answers every
/// asked-for instance Online (pages of MaxResults), SendCommand records which instances each command
/// names and refuses more than 50 (InstanceIdList max in SSM's model), ListCommandInvocations reports
/// every instance of a command Success. It counts commands per instance and when the last one arrived.
/// </summary>
internal sealed class FakeSsm : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _commands;
    private long _refused;
    private long _lastCommandTicks;
    private readonly ConcurrentDictionary<string, int> _perInstance = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string[]> _sent = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _operations = new(StringComparer.Ordinal);

    private FakeSsm(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public long Commands => Interlocked.Read(ref _commands);

    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Stopwatch timestamp of the last SendCommand received.</summary>
    public long LastCommandTimestamp => Interlocked.Read(ref _lastCommandTicks);

    public IReadOnlyDictionary<string, int> CommandsPerInstance => _perInstance;

    public IReadOnlyDictionary<string, long> Operations => _operations;

    public static async Task<FakeSsm> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeSsm(app);
        app.MapPost("/", (Func<HttpContext, Task<IResult>>)fake.HandleAsync);
        await app.StartAsync();
        fake.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/";
        return fake;
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        var target = context.Request.Headers["X-Amz-Target"].ToString();
        using var doc = await JsonDocument.ParseAsync(context.Request.Body);
        var request = doc.RootElement;
        _operations.AddOrUpdate(target, 1, (_, n) => n + 1);
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString("D");
        switch (target)
        {
            case "AmazonSSM.DescribeInstanceInformation":
            {
                var ids = request.GetProperty("Filters")[0].GetProperty("Values").EnumerateArray().Select(v => v.GetString()!).Order(StringComparer.Ordinal).ToArray();
                var max = request.TryGetProperty("MaxResults", out var m) ? m.GetInt32() : 50;
                var start = request.TryGetProperty("NextToken", out var t) ? int.Parse(t.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : 0;
                var page = ids.Skip(start).Take(max).Select(id => new { InstanceId = id, PingStatus = "Online", PlatformType = "Linux" });
                var next = start + max < ids.Length ? (start + max).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
                return Json(next is null ? new { InstanceInformationList = page } : new { InstanceInformationList = page, NextToken = next });
            }
            case "AmazonSSM.SendCommand":
            {
                var ids = request.GetProperty("InstanceIds").EnumerateArray().Select(v => v.GetString()!).ToArray();
                if (ids.Length > 50)
                {
                    Interlocked.Increment(ref _refused);
                    return Json(new Dictionary<string, string> { ["__type"] = "ValidationException", ["message"] = "instanceIds: Member must have length less than or equal to 50" }, 400);
                }
                var id = Guid.NewGuid().ToString("D");
                _sent[id] = ids;
                foreach (var instance in ids)
                {
                    _perInstance.AddOrUpdate(instance, 1, (_, n) => n + 1);
                }
                Interlocked.Increment(ref _commands);
                Interlocked.Exchange(ref _lastCommandTicks, Stopwatch.GetTimestamp());
                return Json(new { Command = new { CommandId = id, Status = "Pending", InstanceIds = ids } });
            }
            case "AmazonSSM.ListCommandInvocations":
            {
                var id = request.GetProperty("CommandId").GetString()!;
                var ids = _sent.TryGetValue(id, out var sent) ? sent : [];
                return Json(new { CommandInvocations = ids.Select(i => new { InstanceId = i, CommandId = id, Status = "Success" }) });
            }
            default:
                return Json(new Dictionary<string, string> { ["__type"] = "UnknownOperationException" }, 400);
        }
    }

    private static IResult Json(object body, int status = 200) =>
        Results.Text(JsonSerializer.Serialize(body), "application/x-amz-json-1.1", statusCode: status);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
