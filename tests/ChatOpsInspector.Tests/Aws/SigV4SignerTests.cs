using System.Net.Http.Headers;
using System.Text;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using ChatOpsInspector.Aws;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Aws;

public class SigV4SignerTests
{
    private const string AccessKey = "AKIDEXAMPLE";
    private const string SecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string SuiteRegion = "us-east-1";
    private const string SuiteService = "service";
    private static readonly DateTimeOffset SuiteTime = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);

    // The two cases the fixtures README names as inconsistent as AWS published them.
    private static readonly Dictionary<string, string> DefectiveCases = new()
    {
        ["post-x-www-form-urlencoded"] = "its .creq signs content-length but its .sts/.authz were computed without it",
        ["post-x-www-form-urlencoded-parameters"] = "its .sts does not hash its .creq",
    };

    public static TheoryData<string> ConsistentCases()
    {
        var data = new TheoryData<string>();
        foreach (var name in SuiteCase.All().Select(c => c.Name).Where(n => !DefectiveCases.ContainsKey(n)))
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ConsistentCases))]
    public void SignerReproducesTheAwsSigV4TestSuite(string caseName)
    {
        var suiteCase = SuiteCase.Load(caseName);

        var signature = SigV4Signer.Sign(suiteCase.Request, AccessKey, SecretKey, SuiteRegion, SuiteService, SuiteTime);

        Assert.Equal(suiteCase.CanonicalRequest, signature.CanonicalRequest);
        Assert.Equal(suiteCase.StringToSign, signature.StringToSign);
        Assert.Equal(suiteCase.Authorization, signature.Authorization);
        Assert.Contains("Authorization: " + signature.Authorization, suiteCase.SignedRequest, StringComparison.Ordinal);
    }

    [Fact(Skip = "AWS suite defect (fixtures README): post-x-www-form-urlencoded's .creq signs content-length but its .sts/.authz were computed without it")]
    public void DefectiveFormUrlEncodedCaseIsNotChecked() => SignerReproducesTheAwsSigV4TestSuite("post-x-www-form-urlencoded");

    [Fact(Skip = "AWS suite defect (fixtures README): post-x-www-form-urlencoded-parameters' .sts does not hash its .creq")]
    public void DefectiveFormUrlEncodedParametersCaseIsNotChecked() => SignerReproducesTheAwsSigV4TestSuite("post-x-www-form-urlencoded-parameters");

    [Fact]
    public void EveryConsistentSuiteCaseIsChecked()
    {
        var names = SuiteCase.All().Select(c => c.Name).ToList();

        Assert.Equal(31, names.Count);
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(DefectiveCases.Keys, defective => Assert.Contains(defective, names));
        Assert.Equal(29, ConsistentCases().Count);
    }

    [Fact]
    public void SignerAgreesWithTheAwsSdkSignerWhenBothSignTheSameHeaders()
    {
        var body = """{"filterCriteria":{"vulnerabilityId":[{"comparison":"EQUALS","value":"CVE-2021-3744"}]},"maxResults":50}"""u8.ToArray();
        const string token = "FQoGZXIvYXdzEXAMPLETOKEN//////////wEaDEXAMPLE=";
        var sdkRequest = new AWSSigningRequest
        {
            HttpMethod = HttpMethod.Post,
            RequestUri = new Uri("https://inspector2.eu-west-1.amazonaws.com/findings/list"),
            Content = body,
        };
        sdkRequest.Headers["Content-Type"] = "application/json";
        var sdk = AWSSigV4Signer.Sign(sdkRequest, new AWSSigV4Parameters
        {
            Credentials = new SessionAWSCredentials(AccessKey, SecretKey, token),
            Region = RegionEndpoint.EUWest1,
            Service = "inspector2",
            SignedAt = SuiteTime.UtcDateTime,
        });

        // The SDK signer always signs x-amz-content-sha256; give ours the same header set.
        var payloadHash = SigV4Signer.Sha256Hex(body);
        var ours = SigV4Signer.Sign(
            new SigV4Signer.Request("POST", "/findings/list", "",
            [
                new("Host", "inspector2.eu-west-1.amazonaws.com"),
                new("Content-Type", "application/json"),
                new("X-Amz-Content-Sha256", payloadHash),
                new("X-Amz-Date", SigV4Signer.FormatAmzDate(SuiteTime)),
                new("X-Amz-Security-Token", token),
            ],
            payloadHash),
            AccessKey, SecretKey, "eu-west-1", "inspector2", SuiteTime);

        var sdkAuthorization = sdk.Headers.Single(h => h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase)).Value;
        Assert.Equal(sdkAuthorization, ours.Authorization);
    }

    [Fact]
    public void SignedHttpRequestCarriesDateTokenAndAuthorizationOverStableHeaders()
    {
        var body = """{"arn":"arn:aws:inspector2:eu-west-1:111122223333:owner/111122223333/filter/abc"}"""u8.ToArray();
        using var message = new HttpRequestMessage(HttpMethod.Post, "https://inspector2.eu-west-1.amazonaws.com/filters/delete")
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        message.Headers.UserAgent.ParseAdd("test/1.0");

        var signature = SigV4Signer.SignRequest(message, body, new ImmutableCredentials(AccessKey, SecretKey, "session-token"),
            "eu-west-1", "inspector2", SuiteTime);

        Assert.Equal("20150830T123600Z", message.Headers.GetValues("X-Amz-Date").Single());
        Assert.Equal("session-token", message.Headers.GetValues("X-Amz-Security-Token").Single());
        Assert.Equal(signature.Authorization, message.Headers.GetValues("Authorization").Single());
        Assert.Equal("content-type;host;x-amz-date;x-amz-security-token", signature.SignedHeaders);
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/inspector2/aws4_request, ", signature.Authorization, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/findings/list", "/findings/list")]
    [InlineData("/a%20b/", "/a%2520b/")] // non-S3 services sign the encoded wire path encoded once more
    [InlineData("//x/./y/../z", "/x/z")]
    public void CanonicalPathNormalisesAndEncodesSegments(string path, string expected) =>
        Assert.Equal(expected, SigV4Signer.CanonicalPath(path));

    /// <summary>One case of AWS's SigV4 test suite: <c>&lt;name&gt;.{req,creq,sts,authz,sreq}</c>.</summary>
    private sealed record SuiteCase(string Name, string Directory)
    {
        private static string SuiteRoot => Fixtures.Path_("aws", "sigv4-test-suite", "aws-sig-v4-test-suite");

        public SigV4Signer.Request Request => ParseRequest(Read("req"));

        public string CanonicalRequest => Read("creq");

        public string StringToSign => Read("sts");

        public string Authorization => Read("authz");

        public string SignedRequest => Read("sreq");

        public static IEnumerable<SuiteCase> All() =>
            System.IO.Directory.EnumerateFiles(SuiteRoot, "*.req", SearchOption.AllDirectories)
                .Select(file => new SuiteCase(Path.GetFileNameWithoutExtension(file), Path.GetDirectoryName(file)!))
                .OrderBy(c => c.Name, StringComparer.Ordinal);

        public static SuiteCase Load(string name) => All().Single(c => c.Name == name);

        private string Read(string extension) =>
            File.ReadAllText(Path.Combine(Directory, $"{Name}.{extension}"), Encoding.UTF8).Replace("\r\n", "\n", StringComparison.Ordinal);

        // The suite's .req files are raw HTTP/1.1 requests; request targets may contain spaces and raw
        // UTF-8, and indented lines continue the previous header with another value.
        private static SigV4Signer.Request ParseRequest(string text)
        {
            var split = text.IndexOf("\n\n", StringComparison.Ordinal);
            var head = split < 0 ? text : text[..split];
            var body = split < 0 ? "" : text[(split + 2)..];
            var lines = head.Split('\n');
            var requestLine = lines[0];
            var method = requestLine[..requestLine.IndexOf(' ', StringComparison.Ordinal)];
            var target = requestLine[(method.Length + 1)..requestLine.LastIndexOf(" HTTP/", StringComparison.Ordinal)];
            var question = target.IndexOf('?', StringComparison.Ordinal);
            var path = question < 0 ? target : target[..question];
            var query = question < 0 ? "" : target[(question + 1)..];

            var headers = new List<KeyValuePair<string, string>>();
            foreach (var line in lines.Skip(1))
            {
                if (line.StartsWith(' ') || line.StartsWith('\t'))
                {
                    headers.Add(new(headers[^1].Key, line.Trim()));
                    continue;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                headers.Add(new(line[..colon], line[(colon + 1)..]));
            }

            return new SigV4Signer.Request(method, path, query, headers, SigV4Signer.Sha256Hex(Encoding.UTF8.GetBytes(body)));
        }
    }
}
