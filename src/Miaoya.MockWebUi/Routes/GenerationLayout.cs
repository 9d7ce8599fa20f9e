using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.MockWebUi;

/// <summary>
/// Where a txt2img/img2img answer's images come from and in what order: the hires size, the grid A1111 puts first, and
/// ControlNet's detected maps appended after every generated image.
/// </summary>
internal static class GenerationLayout
{
    /// <summary>
    /// The hires fix's final size for a txt2img with <c>enable_hr</c>, else null (A1111@82a973c modules/processing.py:1223-1250,
    /// calculate_target_resolution; with both hr_resize_x and hr_resize_y the upscale is cropped to them).
    /// </summary>
    public static (int Width, int Height)? HiresSize(PreparedGeneration g)
    {
        var f = g.Fields;
        if (g.Img2Img || !f.GetBool("enable_hr", false))
        {
            return null;
        }

        var rx = (int)f.GetInt("hr_resize_x", 0);
        var ry = (int)f.GetInt("hr_resize_y", 0);
        return (rx, ry) switch
        {
            (0, 0) => ((int)(g.Width * f.GetFloat("hr_scale", 2.0)), (int)(g.Height * f.GetFloat("hr_scale", 2.0))),
            (_, 0) => (rx, rx * g.Height / g.Width),
            (0, _) => (ry * g.Width / g.Height, ry),
            _ => (rx, ry),
        };
    }

    /// <summary>
    /// True when A1111 returns a grid first: save_images (do_not_save_grid = not save_images, api.py:445-446,513-514),
    /// return_grid, and at least two images unless grid_only_if_multiple is off (processing.py:1117-1128); SD.Next has no
    /// such option and always wants two (vladmandic/sdnext@431bcc3 modules/processing.py:455).
    /// </summary>
    public static bool ReturnsGrid(Dictionary<string, JsonNode?> fields, MockState state, int imageCount) =>
        fields.GetBool("save_images", false) && state.OptionFlag("return_grid")
        && (imageCount >= 2 || !state.OptionFlag("grid_only_if_multiple", fallback: true));

    /// <summary>images.image_grid with n_rows -1: rows = floor(sqrt(n)) lowered until it divides n (A1111 modules/images.py image_grid).</summary>
    public static Image<Rgba32> Grid(IReadOnlyList<Image<Rgba32>> images)
    {
        var rows = (int)Math.Floor(Math.Sqrt(images.Count));
        while (images.Count % rows != 0)
        {
            rows--;
        }

        var cols = (int)Math.Ceiling(images.Count / (double)rows);
        int w = images[0].Width, h = images[0].Height;
        var grid = new Image<Rgba32>(cols * w, rows * h, new Rgba32(0, 0, 0, 255));
        grid.Mutate(x =>
        {
            for (var i = 0; i < images.Count; i++)
            {
                x.DrawImage(images[i], new Point(i % cols * w, i / cols * h), 1f);
            }
        });
        return grid;
    }

    /// <summary>
    /// ControlNet's detected maps for a generation, in unit order (sd-webui-controlnet@56cec5b scripts/controlnet.py:235-292,
    /// get_control; appended once after all images in postprocess, :1283-1296): per unit with save_detected_map, a
    /// preprocessor that returns an image gives, with hires fix, a map at the hires size first (whatever the unit's hr_option,
    /// which only picks the pass the control applies to, :1046) and then one at the generation size, both sizes aligned down
    /// to 8 (detectmap_proc, :511-620; utils.py:181 align_dim_latent); one that returns an embedding (IP-Adapter,
    /// InstantID's face embedding, CLIP) shows its input image as it came (supported_preprocessor.py cached_call).
    /// Forge's built-in ControlNet also appends each unit's control mask after its map, at the generation size
    /// (forge@dfdcbab:extensions-builtin/sd_forge_controlnet/scripts/controlnet.py:384-391).
    /// </summary>
    public static List<Image<Rgba32>> ControlNetMaps(IEnumerable<ResolvedControl> controls, int width, int height, (int Width, int Height)? hires)
    {
        var maps = new List<Image<Rgba32>>();
        foreach (var c in controls.Where(c => c.Unit.SaveDetectedMap))
        {
            if (c.Unit.Module.ReturnsTensor)
            {
                // one display image per input (get_control runs the preprocessor on each, :288); PuLID shows its aligned
                // grey face on white instead (scripts/preprocessor/pulid.py:165-172)
                foreach (var input in c.Inputs)
                {
                    maps.Add(c.Unit.Module.Name == IdentityCatalog.PuLid ? DetectedMaps.PulidFace(input) : input.Clone());
                }
            }
            else
            {
                if (hires is { } hr)
                {
                    maps.Add(DetectedMaps.Render(c.Unit.Module, c.Input, Align(hr.Width), Align(hr.Height)));
                }

                maps.Add(DetectedMaps.Render(c.Unit.Module, c.Input, Align(width), Align(height)));
            }

            if (c.Mask is not null)
            {
                maps.Add(Painter.Resize(c.Mask, width, height, 0));
            }
        }

        return maps;
    }

    private static int Align(int x) => Math.Max(8, x / 8 * 8);
}
