using System.Globalization;
using ChatOpsInspector.Bench.Harness;
using ChatOpsInspector.Bench.Scenarios;

namespace ChatOpsInspector.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/ChatOpsInspector.Bench -- SCENARIO [--count N] [--concurrency N] [--seconds N] [--warmup N] [--quick]</c>
/// </summary>
internal static class BenchProgram
{
    private const string Usage = """
        usage: dotnet run -c Release --project bench/ChatOpsInspector.Bench -- SCENARIO [options]
          ceiling        the load generator against a bare Kestrel endpoint (read body, answer 202)
          ingest         distinct critical findings, single events per request, vs. the ceiling
          storm          10,000 findings of one CVE on 2,000 instances of one owner
          interactions   signed Slack block_actions (acknowledge) and /vulns commands, 200 users
          fleet          approve a patch of a 2,000-instance group against a fake SSM
          faults         Redis outage, flaky Slack, bot SIGKILL, two bot instances
          hostile        bad inputs: statuses, nothing stored, service stays up
          sources        ingest rate of Inspector, Security Hub ASFF and OCSF events side by side
          trust          the attacks of the trust-boundary review, replayed: who may see and act
          scale          1,000,000 findings (--count N) into a 3-shard cluster and a single Redis
          micro          BenchmarkDotNet: parsing, card rendering, signature checks (allocations)
          all            every scenario above but micro
        options: --count N  --concurrency N  --seconds N (time cap)  --quick (smaller counts)
                 --warmup N (requests before measuring, where a scenario warms up)
                 --set Key=Value (a bot setting, e.g. --set Logging:LogLevel:Default=Warning)
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length >= 2 && args[0] == "serve-ceiling")
        {
            await CeilingServer.RunAsync(int.Parse(args[1], CultureInfo.InvariantCulture));
            return 0;
        }
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        var options = BenchOptions.Parse(args.Skip(1).ToArray());
        var scenarios = args[0] == "all"
            ? ["ingest", "storm", "interactions", "faults", "hostile", "sources", "trust"]
            : new[] { args[0] };
        var failed = false;
        foreach (var name in scenarios)
        {
            Console.WriteLine($"== {name} ({DateTimeOffset.UtcNow:HH:mm:ss} UTC, load {Report.LoadAverage()})");
            Report? report = name switch
            {
                "ceiling" => await CeilingScenario.RunAsync(options),
                "ingest" => await IngestScenario.RunAsync(options),
                "storm" => await StormScenario.RunAsync(options),
                "interactions" => await InteractionsScenario.RunAsync(options),
                "fleet" => await FleetScenario.RunAsync(options),
                "faults" => await FaultsScenario.RunAsync(options),
                "hostile" => await HostileScenario.RunAsync(options),
                "sources" => await SourcesScenario.RunAsync(options),
                "trust" => await TrustScenario.RunAsync(options),
                "scale" => await ScaleScenario.RunAsync(options),
                "micro" => Micro.MicroBenchmarks.Run(options),
                _ => null,
            };
            if (report is null)
            {
                if (name != "micro")
                {
                    Console.Error.WriteLine($"unknown scenario '{name}'\n{Usage}");
                    return 2;
                }
                continue;
            }
            report.Write();
            failed |= report.Failed;
        }
        return failed ? 1 : 0;
    }
}

internal sealed record BenchOptions(int? Count, int? Concurrency, TimeSpan? Cap, bool Quick, IReadOnlyDictionary<string, string> BotSettings)
{
    public int? WarmUp { get; init; }

    public static BenchOptions Parse(string[] args)
    {
        int? count = null, concurrency = null, warmUp = null;
        TimeSpan? cap = null;
        var quick = false;
        var settings = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--count":
                    count = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--concurrency":
                    concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--seconds":
                    cap = TimeSpan.FromSeconds(double.Parse(args[++i], CultureInfo.InvariantCulture));
                    break;
                case "--warmup":
                    warmUp = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--quick":
                    quick = true;
                    break;
                case "--set":
                    var pair = args[++i].Split('=', 2);
                    settings[pair[0]] = pair[1];
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        Rig.ExtraSettings = settings;
        return new BenchOptions(count, concurrency, cap, quick, settings) { WarmUp = warmUp };
    }
}
