namespace Miaoya.Imaging;

/// <summary>A CIELAB colour (D65 white), L in [0, 100].</summary>
public readonly record struct Lab(double L, double A, double B)
{
    // sRGB (IEC 61966-2-1) linear RGB → XYZ, D65.
    private const double Xr = 0.4124564, Xg = 0.3575761, Xb = 0.1804375;
    private const double Yr = 0.2126729, Yg = 0.7151522, Yb = 0.0721750;
    private const double Zr = 0.0193339, Zg = 0.1191920, Zb = 0.9503041;

    // Reference white = the matrix applied to RGB (1,1,1), so sRGB white maps to exactly (100, 0, 0).
    private const double Xn = Xr + Xg + Xb, Yn = Yr + Yg + Yb, Zn = Zr + Zg + Zb;

    private static readonly double[] Linear = BuildLinear();

    /// <summary>sRGB 8-bit → CIELAB (D65, 2° observer).</summary>
    public static Lab FromRgb(byte r, byte g, byte b)
    {
        double lr = Linear[r], lg = Linear[g], lb = Linear[b];
        var fx = F(((Xr * lr) + (Xg * lg) + (Xb * lb)) / Xn);
        var fy = F(((Yr * lr) + (Yg * lg) + (Yb * lb)) / Yn);
        var fz = F(((Zr * lr) + (Zg * lg) + (Zb * lb)) / Zn);
        return new Lab((116 * fy) - 16, 500 * (fx - fy), 200 * (fy - fz));
    }

    /// <summary>
    /// CIEDE2000 colour difference with k_L = k_C = k_H = 1, as specified by Sharma, Wu and Dalal (2005), "The CIEDE2000
    /// color-difference formula: implementation notes, supplementary test data, and mathematical observations".
    /// About 1 is a just-noticeable difference; 2–10 is visible at a glance.
    /// </summary>
    public static double DeltaE2000(Lab x, Lab y)
    {
        const double Pow25To7 = 6103515625.0; // 25^7
        var c1 = Math.Sqrt((x.A * x.A) + (x.B * x.B));
        var c2 = Math.Sqrt((y.A * y.A) + (y.B * y.B));
        var cBar7 = Math.Pow((c1 + c2) / 2, 7);
        var g = 0.5 * (1 - Math.Sqrt(cBar7 / (cBar7 + Pow25To7)));
        var a1 = (1 + g) * x.A;
        var a2 = (1 + g) * y.A;
        var cp1 = Math.Sqrt((a1 * a1) + (x.B * x.B));
        var cp2 = Math.Sqrt((a2 * a2) + (y.B * y.B));
        var hp1 = Hue(x.B, a1);
        var hp2 = Hue(y.B, a2);

        var dL = y.L - x.L;
        var dC = cp2 - cp1;
        double dh;
        if (cp1 * cp2 == 0)
        {
            dh = 0;
        }
        else
        {
            dh = hp2 - hp1;
            if (dh > 180)
            {
                dh -= 360;
            }
            else if (dh < -180)
            {
                dh += 360;
            }
        }

        var dH = 2 * Math.Sqrt(cp1 * cp2) * Math.Sin(Radians(dh / 2));

        var lBar = (x.L + y.L) / 2;
        var cpBar = (cp1 + cp2) / 2;
        double hBar;
        if (cp1 * cp2 == 0)
        {
            hBar = hp1 + hp2;
        }
        else if (Math.Abs(hp1 - hp2) <= 180)
        {
            hBar = (hp1 + hp2) / 2;
        }
        else
        {
            hBar = (hp1 + hp2 < 360 ? hp1 + hp2 + 360 : hp1 + hp2 - 360) / 2;
        }

        var t = 1
            - (0.17 * Math.Cos(Radians(hBar - 30)))
            + (0.24 * Math.Cos(Radians(2 * hBar)))
            + (0.32 * Math.Cos(Radians((3 * hBar) + 6)))
            - (0.20 * Math.Cos(Radians((4 * hBar) - 63)));
        var dTheta = 30 * Math.Exp(-Math.Pow((hBar - 275) / 25, 2));
        var cpBar7 = Math.Pow(cpBar, 7);
        var rC = 2 * Math.Sqrt(cpBar7 / (cpBar7 + Pow25To7));
        var lBar50 = (lBar - 50) * (lBar - 50);
        var sL = 1 + (0.015 * lBar50 / Math.Sqrt(20 + lBar50));
        var sC = 1 + (0.045 * cpBar);
        var sH = 1 + (0.015 * cpBar * t);
        var rT = -Math.Sin(Radians(2 * dTheta)) * rC;

        var l = dL / sL;
        var c = dC / sC;
        var h = dH / sH;
        return Math.Sqrt((l * l) + (c * c) + (h * h) + (rT * c * h));
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Lab({L:F2}, {A:F2}, {B:F2})");

    private static double Hue(double b, double a)
    {
        if (a == 0 && b == 0)
        {
            return 0;
        }

        var h = Math.Atan2(b, a) * 180 / Math.PI;
        return h < 0 ? h + 360 : h;
    }

    private static double Radians(double degrees) => degrees * Math.PI / 180;

    private static double F(double t)
    {
        const double Delta = 6.0 / 29;
        return t > Delta * Delta * Delta ? Math.Cbrt(t) : (t / (3 * Delta * Delta)) + (4.0 / 29);
    }

    private static double[] BuildLinear()
    {
        var table = new double[256];
        for (var i = 0; i < table.Length; i++)
        {
            var c = i / 255.0;
            table[i] = c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }

        return table;
    }
}
