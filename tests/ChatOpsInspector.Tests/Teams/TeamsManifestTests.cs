using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json.Nodes;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Teams;

public class TeamsManifestTests
{
    private static string ManifestDir => Path.Combine(Fixtures.FindSolutionDir(), "manifests", "teams");

    [Fact]
    public void ManifestValidatesAgainstTheTeams117Schema()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(ManifestDir, "manifest.json")));

        Schemas.AssertValidManifest(manifest);
        Assert.Equal("1.17", manifest!["manifestVersion"]!.GetValue<string>());
        var bot = manifest["bots"]![0]!;
        Assert.Equal(["team", "personal", "groupChat"], bot["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.NotEmpty(bot["commandLists"]!.AsArray());
        Assert.NotEmpty(manifest["validDomains"]!.AsArray());
    }

    [Fact]
    public void ManifestMissingRequiredPartsIsRejectedBySchema()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(ManifestDir, "manifest.json")))!.AsObject();
        manifest.Remove("icons");
        manifest["bots"]![0]!["scopes"] = new JsonArray("everywhere");

        Assert.Throws<Xunit.Sdk.FailException>(() => Schemas.AssertValidManifest(manifest));
    }

    [Theory]
    [InlineData("color.png", 192)]
    [InlineData("outline.png", 32)]
    public void IconsHaveTheSizesTeamsRequiresAndAnAlphaChannel(string file, int size)
    {
        var png = File.ReadAllBytes(Path.Combine(ManifestDir, file));

        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal(size, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(size, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.Equal(8, png[24]);  // bit depth
        Assert.Equal(6, png[25]);  // colour type 6: RGBA
    }

    [Fact]
    public void OutlineIconIsWhiteOnTransparent()
    {
        var pixels = DecodeRgba(File.ReadAllBytes(Path.Combine(ManifestDir, "outline.png")), 32);

        Assert.Equal(0, pixels[0][3]);  // top-left corner fully transparent
        Assert.All(pixels.Where(p => p[3] != 0), p => Assert.Equal([255, 255, 255, 255], p));
        Assert.Contains(pixels, p => p[3] == 255);
    }

    /// <summary>Decodes the unfiltered (filter type 0) RGBA rows that make-icons.py writes.</summary>
    private static List<byte[]> DecodeRgba(byte[] png, int size)
    {
        var idat = new MemoryStream();
        for (var at = 8; at < png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            if (System.Text.Encoding.ASCII.GetString(png, at + 4, 4) == "IDAT")
            {
                idat.Write(png, at + 8, length);
            }
            at += 12 + length;
        }
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        var raw = new MemoryStream();
        z.CopyTo(raw);
        var bytes = raw.ToArray();
        var pixels = new List<byte[]>();
        for (var y = 0; y < size; y++)
        {
            Assert.Equal(0, bytes[y * (size * 4 + 1)]);
            for (var x = 0; x < size; x++)
            {
                pixels.Add(bytes.AsSpan(y * (size * 4 + 1) + 1 + x * 4, 4).ToArray());
            }
        }
        return pixels;
    }
}
