using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Attributes;
using ChatOpsInspector.Bench.Harness;
using ChatOpsInspector.Findings;

namespace ChatOpsInspector.Bench.Micro;

/// <summary>
/// Reading one finding event in each of the three forms it arrives in, side by side: Inspector's own
/// event, Security Hub CSPM's ASFF copy and Security Hub's OCSF copy (the public samples of the tests).
/// </summary>
[MemoryDiagnoser]
public class SecurityHubIngestPath
{
    private byte[] _native = [];
    private byte[] _asff = [];
    private byte[] _ocsf = [];

    [GlobalSetup]
    public void Setup()
    {
        _native = Events.Bytes(Events.Distinct("micro", 1));
        var asffFinding = JsonNode.Parse(File.ReadAllText(Path.Combine(Paths.Fixtures, "securityhub", "defectdojo-inspector_ec2_cve.json")))!["Findings"]![1]!;
        _asff = Envelope("securityhub-userguide-findings-imported-envelope.txt", asffFinding.ToJsonString());
        _ocsf = Envelope("securityhub-userguide-findings-imported-v2-envelope.txt",
            File.ReadAllText(Path.Combine(Paths.Fixtures, "securityhub", "constructed-ocsf-inspector-ec2-cve.json")));
        foreach (var body in new[] { _native, _asff, _ocsf })
        {
            var (events, errors) = InspectorEventParser.Parse(body, DateTimeOffset.UtcNow);
            if (errors.Count > 0 || events[0].Finding is null)
            {
                throw new InvalidOperationException("Sample does not parse to a finding: " + string.Join("; ", errors));
            }
        }
    }

    private static byte[] Envelope(string file, string finding) =>
        Encoding.UTF8.GetBytes(Regex.Replace(File.ReadAllText(Path.Combine(Paths.Fixtures, "securityhub", file)),
            @"\{\s*(\{\{)?<finding content>(\}\})?\s*\}", _ => finding));

    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Benchmark(Baseline = true, Description = "parse Inspector's own event")]
    public int Native() => InspectorEventParser.Parse(_native, Now).Events.Count;

    [Benchmark(Description = "parse a Security Hub ASFF event")]
    public int Asff() => InspectorEventParser.Parse(_asff, Now).Events.Count;

    [Benchmark(Description = "parse a Security Hub OCSF event")]
    public int Ocsf() => InspectorEventParser.Parse(_ocsf, Now).Events.Count;
}
