namespace Miaoya.MockWebUi;

/// <summary>
/// The ControlNet models the mock box has (SD1.5, and SDXL for the identity units), as <c>/controlnet/model_list</c> names them: "None", then "stem [hash]"
/// sorted by file name (CN's default <c>control_net_models_sort_models_by</c> = "name", global_state.py:47-60 at 56cec5b);
/// the hash is A1111's short <c>model_hash</c> of the file.
/// </summary>
internal static class ControlNetModels
{
    // Sources of the name/hash pairs:
    //  control_v11*  mix1009/sdwebuiapi README (webuiapi 0.7.0, "api.controlnet_model_list()" output), the ControlNet 1.1
    //                release files; control_v11f1e_sd15_tile [a371b31b] as users' payloads name the f1e tile file.
    //  ip-adapter*, t2iadapter_depth_sd15v2, control_sd15_depth_anything  Mikubill/sd-webui-controlnet@56cec5b
    //                tests/web_api/full_coverage/ipadapter_test.py:46-197 and depth_test.py:26-28.
    //  SDXL, for the identity units (issue 17) and a recipe's other units on an SDXL checkpoint:
    //  ip-adapter-faceid_sdxl [59ee31a3]  sd-webui-controlnet@56cec5b tests/web_api/full_coverage/ipadapter_test.py:199-203.
    //  ip-adapter_instant_id_sdxl [eb2d3ec0], control_instant_id_sdxl [c5c25a50], ip-adapter-faceid-plusv2_sdxl [187cb962],
    //  ip-adapter-faceid-portrait_sdxl [8c9efc20], diffusers_xl_canny_full [2b69fca4], diffusers_xl_depth_full [2f51180b],
    //  sargezt_xl_softedge [b6f7415b], t2i-adapter_diffusers_xl_openpose [adfb64aa]  as third-party A1111 clients' payloads and
    //  model lists name them (lllyasviel/sd_control_collection and the InstantID/IP-Adapter releases' file names).
    //  ip-adapter_pulid_sdxl_fp16 [4b2e5c1d]  file name from CN PR #2838 (HF huchenlei/ipadapter_pulid); the HASH IS MADE UP:
    //  no listing of it was found.
    // The first five v11 models and the three IP-Adapters were the mock's whole list before; they keep their hashes.
    public static readonly string[] All =
    [
        "None",
        "control_instant_id_sdxl [c5c25a50]",
        "control_sd15_depth_anything [48a4bc3a]",
        "control_v11e_sd15_ip2p [c4bb465c]",
        "control_v11e_sd15_shuffle [526bfdae]",
        "control_v11f1e_sd15_tile [a371b31b]",
        "control_v11f1p_sd15_depth [cfd03158]",
        "control_v11p_sd15_canny [d14c016b]",
        "control_v11p_sd15_inpaint [ebff9138]",
        "control_v11p_sd15_lineart [43d4be0d]",
        "control_v11p_sd15_mlsd [aca30ff0]",
        "control_v11p_sd15_normalbae [316696f1]",
        "control_v11p_sd15_openpose [cab727d4]",
        "control_v11p_sd15_scribble [d4ba51ff]",
        "control_v11p_sd15_seg [e1f51eb9]",
        "control_v11p_sd15_softedge [a8575a2a]",
        "control_v11p_sd15s2_lineart_anime [3825e83e]",
        "diffusers_xl_canny_full [2b69fca4]",
        "diffusers_xl_depth_full [2f51180b]",
        "ip-adapter-faceid-plus_sd15 [d86a490f]",
        "ip-adapter-faceid-plusv2_sd15 [6e14fc1a]",
        "ip-adapter-faceid-plusv2_sdxl [187cb962]",
        "ip-adapter-faceid-portrait_sd15 [b2609049]",
        "ip-adapter-faceid-portrait_sdxl [8c9efc20]",
        "ip-adapter-faceid_sd15 [0a1757e9]",
        "ip-adapter-faceid_sdxl [59ee31a3]",
        "ip-adapter-full-face_sd15 [852b9843]",
        "ip-adapter-plus-face_sd15 [71693645]",
        "ip-adapter_instant_id_sdxl [eb2d3ec0]",
        "ip-adapter_pulid_sdxl_fp16 [4b2e5c1d]",
        "ip-adapter_sd15 [6a3f6166]",
        "ip-adapter_sd15_light [be1c9b97]",
        "sargezt_xl_softedge [b6f7415b]",
        "t2i-adapter_diffusers_xl_openpose [adfb64aa]",
        "t2iadapter_depth_sd15v2 [3489cd37]",
    ];
}
