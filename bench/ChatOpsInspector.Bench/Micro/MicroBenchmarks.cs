using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Bench.Harness;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Ingest;
using ChatOpsInspector.Routing;
using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Bench.Micro;

/// <summary>The <c>micro</c> scenario: BenchmarkDotNet over the per-request hot functions, with allocations.</summary>
internal static class MicroBenchmarks
{
    public static Report Run(BenchOptions options)
    {
        var job = (options.Quick ? Job.ShortRun : Job.Default).WithToolchain(InProcessEmitToolchain.Instance);
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
            .AddExporter(BenchmarkDotNet.Exporters.MarkdownExporter.GitHub)
            .WithArtifactsPath(Path.Combine(Paths.Results, "BenchmarkDotNet"))
            .WithOptions(ConfigOptions.DisableLogFile);
        var summaries = BenchmarkRunner.Run([typeof(IngestHotPath), typeof(SecurityHubIngestPath), typeof(CardHotPath), typeof(SignatureHotPath)], config);

        var report = new Report("micro");
        foreach (var summary in summaries)
        {
            foreach (var r in summary.Reports)
            {
                var name = $"{r.BenchmarkCase.Descriptor.Type.Name}.{r.BenchmarkCase.Descriptor.WorkloadMethod.Name}{Params(r.BenchmarkCase)}";
                if (r.ResultStatistics is not { } stats)
                {
                    report.Add(name, "failed");
                    continue;
                }
                var allocated = r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase) ?? 0;
                report.Add(name, $"{Time(stats.Mean)} mean, {allocated:#,0} B allocated/op");
            }
        }
        report.Note(options.Quick ? "BenchmarkDotNet ShortRun (3 iterations), in-process" : "BenchmarkDotNet default job, in-process");
        return report;
    }

    private static string Params(BenchmarkDotNet.Running.BenchmarkCase c) =>
        c.Parameters.Items.Count == 0 ? "" : "(" + string.Join(", ", c.Parameters.Items.Select(p => $"{p.Name}={p.Value}")) + ")";

    private static string Time(double ns) => ns switch
    {
        < 1_000 => $"{ns:0.0} ns",
        < 1_000_000 => $"{ns / 1000:0.00} µs",
        _ => $"{ns / 1_000_000:0.00} ms",
    };

    internal static AlertGroup Group(int members)
    {
        var policy = new AlertPolicy(Options.Create(new AlertingOptions()), Options.Create(new SlaOptions()));
        var router = new FindingRouter(Options.Create(new RoutingOptions()), Options.Create(new Dictionary<string, AccountInfo>()));
        var ingestor = new FindingIngestor(null!, policy, router, NullLogger<FindingIngestor>.Instance);
        IngestRecord? first = null;
        var list = new List<GroupMember>(members);
        for (var i = 0; i < members; i++)
        {
            var (events, errors) = InspectorEventParser.Parse(Events.Bytes(new FindingSpec($"micro-{i}", "CVE-2026-40000", $"i-{i:x17}", "app00", Padding: 600 + (i * 7919) % 3900)), DateTimeOffset.UtcNow);
            if (errors.Count > 0)
            {
                throw new InvalidOperationException(string.Join("; ", errors));
            }
            var finding = events[0].Finding!;
            var record = ingestor.ToRecord(finding, router.Route(finding), events[0].Id);
            first ??= record;
            list.Add(record.Member);
        }
        return new AlertGroup { Id = first!.GroupId, Meta = first.Meta, Members = list, Workflow = new WorkflowState(), Version = 1 };
    }
}

[MemoryDiagnoser]
public class IngestHotPath
{
    private byte[] _one = [];
    private byte[] _ten = [];
    private byte[] _memberJson = [];

    [GlobalSetup]
    public void Setup()
    {
        _one = Events.Bytes(Events.Distinct("micro", 1));
        _ten = Encoding.UTF8.GetBytes("[" + string.Join(',', Enumerable.Range(0, 10).Select(i => Events.Json(Events.Distinct("micro", i)))) + "]");
        _memberJson = StateJson.Write(MicroBenchmarks.Group(1).Members[0]);
    }

    [Benchmark(Description = "parse one ~5 KB event")]
    public int ParseOne() => InspectorEventParser.Parse(_one, DateTimeOffset.UtcNow).Events.Count;

    [Benchmark(Description = "parse a batch of 10")]
    public int ParseTen() => InspectorEventParser.Parse(_ten, DateTimeOffset.UtcNow).Events.Count;

    /// <summary>Every publish reads all members of a group back from Redis, as UTF-8 bytes.</summary>
    [Benchmark(Description = "read one stored group member")]
    public object ReadMember() => StateJson.Read<GroupMember>(_memberJson);
}

[MemoryDiagnoser]
public class CardHotPath
{
    private AlertGroup _group = null!;
    private readonly DateTimeOffset _now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Params(1, 2_000)]
    public int Resources { get; set; }

    [GlobalSetup]
    public void Setup() => _group = MicroBenchmarks.Group(Resources);

    [Benchmark(Description = "AlertCardBuilder.Build")]
    public object Build() => AlertCardBuilder.Build(_group, _now);

    /// <summary>Platform-neutral view to Block Kit JSON, as chat.postMessage sends it.</summary>
    [Benchmark(Description = "Build + Slack Block Kit JSON")]
    public int BuildSlack() => ChatOpsInspector.Slack.SlackCards.Blocks(AlertCardBuilder.Build(_group, _now), _now).ToJsonString().Length;
}

[MemoryDiagnoser]
public class SignatureHotPath
{
    private const string Key = "bench-ingest-key-3c59dc048e8850243be8079a5c74d079";

    private byte[] _slackBody = [];
    private string _slackTimestamp = "";
    private string _slackSignature = "";
    private DateTimeOffset _now;

    [GlobalSetup]
    public void Setup()
    {
        _slackBody = Encoding.UTF8.GetBytes("payload=" + Uri.EscapeDataString(Scenarios.InteractionsScenario.BlockAction("U1", "0123456789", "C1", "http://127.0.0.1/r", "t1")));
        _now = DateTimeOffset.UtcNow;
        _slackTimestamp = _now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        _slackSignature = SlackSigner.Sign(Encoding.UTF8.GetString(_slackBody), _now.ToUnixTimeSeconds());
    }

    [Benchmark(Description = "ApiKeyFilter.FixedTimeEquals")]
    public bool ApiKey() => ApiKeyFilter.FixedTimeEquals("bench-ingest-key-3c59dc048e8850243be8079a5c74d079", Key);

    [Benchmark(Description = "SlackSignature.IsValid (block_actions, ~1.3 KB)")]
    public bool Slack() => ChatOpsInspector.Slack.SlackSignature.IsValid(SlackSigner.Secret, _slackTimestamp, _slackSignature, _slackBody, _now, TimeSpan.FromMinutes(5));
}
