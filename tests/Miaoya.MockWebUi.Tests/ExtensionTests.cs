using System.Text.Json.Nodes;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi.Tests;

public sealed class ExtensionTests
{
    [Fact]
    public async Task Detect_Openpose_PutsFacePointsOnAstronautFace()
    {
        using var c = new MockClient();
        var r = await c.PostAsync("controlnet/detect", new JsonObject
        {
            ["controlnet_module"] = "openpose_full",
            ["controlnet_input_images"] = new JsonArray(TestImages.AstronautBase64()),
            ["controlnet_processor_res"] = 448,
        });
        Assert.Equal(200, r.Status);
        Assert.Equal("Success", r.Json!["info"]!.GetValue<string>());
        using (var map = TestImages.Decode(r.Json["images"]![0]))
        {
            Assert.Equal((448, 448), (map.Width, map.Height)); // cropped back to the unpadded resized size
        }

        var pose = r.Json["poses"]![0]!;
        Assert.Equal(448, pose["canvas_width"]!.GetValue<int>());
        Assert.Equal(448, pose["canvas_height"]!.GetValue<int>());
        Assert.Empty(pose["animals"]!.AsArray());
        var person = pose["people"]![0]!;
        Assert.Equal(18 * 3, person["pose_keypoints_2d"]!.AsArray().Count);
        Assert.Null(person["hand_left_keypoints_2d"]);
        var face = person["face_keypoints_2d"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.Equal(70 * 3, face.Length);

        var k = 448.0 / 512; // original = x * canvas / k
        for (var i = 0; i < 70; i++)
        {
            var x = face[i * 3] * 448 / k;
            var y = face[(i * 3) + 1] * 448 / k;
            Assert.InRange(x, 170, 290);
            Assert.InRange(y, 70, 200);
            Assert.Equal(1.0, face[(i * 3) + 2]);
        }
    }

    [Fact]
    public async Task Detect_DefaultResolution_PadsCanvasToMultipleOf64()
    {
        using var c = new MockClient();
        var r = await c.PostAsync("controlnet/detect", new JsonObject
        {
            ["controlnet_module"] = "dw_openpose_full",
            ["controlnet_input_images"] = new JsonArray(TestImages.Solid(300, 200, new Rgba32(90, 90, 90, 255))),
            ["controlnet_processor_res"] = -1,
        });
        var pose = r.Json!["poses"]![0]!;
        Assert.Equal(768, pose["canvas_width"]!.GetValue<int>()); // 300*512/200 = 768
        Assert.Equal(512, pose["canvas_height"]!.GetValue<int>());

        var depth = await c.PostAsync("controlnet/detect", new JsonObject
        {
            ["controlnet_module"] = "depth_midas",
            ["controlnet_input_images"] = new JsonArray(TestImages.Solid(64, 64, new Rgba32(1, 1, 1, 255))),
        });
        Assert.Single(depth.Json!["images"]!.AsArray());
        Assert.False(depth.Json.AsObject().ContainsKey("poses"));
    }

    [Fact]
    public async Task Detect_Errors_Are422()
    {
        using var c = new MockClient();
        var unknown = await c.PostAsync("controlnet/detect", new JsonObject { ["controlnet_module"] = "nope", ["controlnet_input_images"] = new JsonArray("x") });
        Assert.Equal(422, unknown.Status);
        Assert.Equal("Module not available", unknown.Json!["detail"]!.GetValue<string>());
        var empty = await c.PostAsync("controlnet/detect", new JsonObject { ["controlnet_module"] = "openpose" });
        Assert.Equal(422, empty.Status);
        Assert.Equal("No image selected", empty.Json!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tagger_110_IsPicobyteShape_WithThreshold()
    {
        using var c = new MockClient(MockWebUiProfile.WebUi110);
        var models = (await c.GetAsync("tagger/v1/interrogators")).Json!["models"]!.AsArray().Select(m => m!.GetValue<string>()).ToList();
        Assert.Contains("wd14-vit.v2", models);

        var image = TestImages.AstronautBase64();
        var all = await c.PostAsync("tagger/v1/interrogate", new JsonObject { ["image"] = image, ["model"] = "wd14-vit.v2" });
        var some = await c.PostAsync("tagger/v1/interrogate", new JsonObject { ["image"] = image, ["model"] = "wd14-vit.v2", ["threshold"] = 0.5 });
        var tagsAll = all.Json!["caption"]!["tag"]!.AsObject();
        var tagsSome = some.Json!["caption"]!["tag"]!.AsObject();
        Assert.True(tagsAll.Count > tagsSome.Count);
        Assert.All(tagsSome, t => Assert.True(t.Value!.GetValue<double>() > 0.5));
        Assert.Contains("1girl", tagsSome.Select(t => t.Key));
        Assert.Equal(["general", "sensitive", "questionable", "explicit"], some.Json["caption"]!["rating"]!.AsObject().Select(r => r.Key));

        var again = await c.PostAsync("tagger/v1/interrogate", new JsonObject { ["image"] = image, ["model"] = "wd14-vit.v2", ["threshold"] = 0.5 });
        Assert.Equal(some.Text, again.Text); // deterministic from the image bytes
    }

    [Fact]
    public async Task Tagger_18_IsToriatoFlatShape_DefaultThreshold035()
    {
        using var c = new MockClient(MockWebUiProfile.WebUi18);
        var r = await c.PostAsync("tagger/v1/interrogate", new JsonObject { ["image"] = TestImages.AstronautBase64(), ["model"] = "wd14-vit-v2" });
        Assert.Equal(200, r.Status);
        var caption = r.Json!["caption"]!.AsObject();
        Assert.False(caption.ContainsKey("tag"));
        Assert.True(caption.ContainsKey("general"));
        Assert.True(caption.ContainsKey("explicit")); // ratings are never thresholded
        Assert.All(caption.Where(t => !new[] { "general", "sensitive", "questionable", "explicit" }.Contains(t.Key)), t => Assert.True(t.Value!.GetValue<double>() >= 0.35));
        var scores = caption.Select(t => t.Value!.GetValue<double>()).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
    }

    [Fact]
    public async Task Tagger_Errors()
    {
        using var c = new MockClient();
        var noModel = await c.PostAsync("tagger/v1/interrogate", new JsonObject { ["image"] = "x" });
        Assert.Equal(422, noModel.Status);
        Assert.Equal("value_error.missing", noModel.Json!["detail"]![0]!["type"]!.GetValue<string>());
        var badModel = await c.PostAsync("tagger/v1/interrogate", new JsonObject { ["image"] = TestImages.AstronautBase64(), ["model"] = "nope" });
        Assert.Equal((404, "Model not found"), (badModel.Status, badModel.Json!["detail"]!.GetValue<string>()));
        var noImage = await c.PostAsync("tagger/v1/interrogate", new JsonObject { ["model"] = "wd14-vit.v2" });
        Assert.Equal((404, "Image not found"), (noImage.Status, noImage.Json!["detail"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Rembg_ReturnsPngWithTransparentBackground()
    {
        using var c = new MockClient();
        var r = await c.PostAsync("rembg", new JsonObject { ["input_image"] = TestImages.AstronautBase64(), ["model"] = "u2net", ["return_mask"] = false, ["alpha_matting"] = false });
        Assert.Equal(200, r.Status);
        using var img = TestImages.Decode(r.Json!["image"]);
        Assert.Equal((512, 512), (img.Width, img.Height));
        Assert.Equal(0, img[2, 2].A);
        Assert.Equal(255, img[256, 256].A);

        var mask = await c.PostAsync("rembg", new JsonObject { ["input_image"] = TestImages.AstronautBase64(), ["return_mask"] = true });
        using var m = TestImages.Decode(mask.Json!["image"]);
        Assert.Equal(new Rgba32(255, 255, 255, 255), m[256, 256]);
        Assert.Equal(new Rgba32(0, 0, 0, 255), m[2, 2]);

        var none = await c.PostAsync("rembg", new JsonObject { ["input_image"] = TestImages.AstronautBase64(), ["model"] = "None" });
        Assert.Equal((200, "null"), (none.Status, none.Text));
    }

    [Fact]
    public async Task Rembg_MaskIsPersonShapedAroundTheFaceWithSoftEdges()
    {
        using var c = new MockClient();
        var r = await c.PostAsync("rembg", new JsonObject { ["input_image"] = TestImages.AstronautBase64(), ["model"] = "u2net_human_seg", ["return_mask"] = true });
        using var m = TestImages.Decode(r.Json!["image"]);
        Assert.Equal(255, m[225, 130].R);  // the face (BlazeFace puts it at about (227, 130) in this photo)
        Assert.Equal(255, m[225, 500].R);  // the body below it reaches the bottom edge
        Assert.Equal(0, m[10, 10].R);      // background beside the head
        Assert.Equal(0, m[500, 60].R);
        var soft = 0;
        for (var y = 0; y < m.Height; y++)
        {
            for (var x = 0; x < m.Width; x++)
            {
                soft += m[x, y].R is > 0 and < 255 ? 1 : 0;
            }
        }

        Assert.True(soft > 200, $"{soft} soft pixels: a matting model's edge is soft");
    }
}
