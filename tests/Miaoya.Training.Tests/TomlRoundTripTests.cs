using Tomlyn;
using Tomlyn.Model;

namespace Miaoya.Training.Tests;

/// <summary>
/// What our TOML writer writes, read back by a real TOML parser (Tomlyn): every set of the built-in recipe, with the
/// types kohya's <c>toml.load</c> must see, and paths with characters that need escaping.
/// </summary>
public sealed class TomlRoundTripTests
{
    private static readonly KohyaPaths Awkward = new(
        "/models/base \"v2\".safetensors", @"C:\data\anna\img\10_annaxyz", "annaxyz", "/runs/Ånna's run/loras", "anna_r16", "/runs/Ånna's run/sets/r16");

    [Fact]
    public void EverySetsConfigs_ParseAsTomlWithKohyasTypes()
    {
        foreach (var set in LoraTrainingRecipe.Load(LoraTrainingRecipe.BuiltInName).Sets)
        {
            var config = TomlSerializer.Deserialize<TomlTable>(KohyaConfig.RenderConfig(set, Awkward))!;
            var model = (TomlTable)config["model"];
            Assert.Equal(Awkward.BaseModel, model["pretrained_model_name_or_path"]);
            var all = Flatten(config);
            Assert.IsType<long>(all["network_dim"]);
            Assert.IsType<double>(all["network_alpha"]);
            Assert.IsType<double>(all["unet_lr"]);
            Assert.Equal(Awkward.OutputDir, all["output_dir"]);
            Assert.IsType<bool>(all["gradient_checkpointing"]);

            var dataset = TomlSerializer.Deserialize<TomlTable>(KohyaConfig.RenderDatasetConfig(set, Awkward))!;
            var datasets = Assert.IsType<TomlTableArray>(dataset["datasets"]);
            var subsets = Assert.IsType<TomlTableArray>(Assert.Single(datasets)["subsets"]);
            Assert.Equal(Awkward.ImageDir, Assert.Single(subsets)["image_dir"]);
            Assert.IsType<long>(subsets[0]["num_repeats"]);
        }
    }

    /// <summary>Every key of every table, the table names dropped (kohya flattens its config's tables the same way).</summary>
    private static Dictionary<string, object> Flatten(TomlTable table)
    {
        var all = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, value) in table)
        {
            if (value is TomlTable inner)
            {
                foreach (var (k, v) in Flatten(inner))
                {
                    all[k] = v;
                }
            }
            else
            {
                all[key] = value;
            }
        }

        return all;
    }
}
