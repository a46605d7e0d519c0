namespace Tracker.Plugins.Bayesian;

/// <summary>The standard normal distribution, with the tails computed accurately enough for log expected improvement.</summary>
internal static class Normal
{
    private const double InvSqrt2 = 0.70710678118654752440;
    private const double InvSqrt2Pi = 0.39894228040143267794;
    private const double LogSqrt2Pi = 0.91893853320467274178;
    private const double SqrtHalfPi = 1.25331413731550025121;

    public static double Pdf(double z) => InvSqrt2Pi * Math.Exp(-0.5 * z * z);

    public static double LogPdf(double z) => -0.5 * z * z - LogSqrt2Pi;

    public static double Cdf(double z) => 0.5 * Erfc(-z * InvSqrt2);

    /// <summary>Φ(z)/φ(z) (the Mills ratio of −z), finite for every z.</summary>
    public static double CdfOverPdf(double z) => SqrtHalfPi * Erfcx(-z * InvSqrt2);

    /// <summary>The complementary error function (fdlibm's rational approximations; about 1e-16 relative error).</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        double a = Math.Abs(x);
        if (a < 0.84375)
        {
            double z = a * a;
            double r = Pp0 + z * (Pp1 + z * (Pp2 + z * (Pp3 + z * Pp4)));
            double s = 1 + z * (Qq1 + z * (Qq2 + z * (Qq3 + z * (Qq4 + z * Qq5))));
            return 1 - (x + x * (r / s));
        }
        if (a < 1.25)
        {
            double s = a - 1;
            double p = Pa0 + s * (Pa1 + s * (Pa2 + s * (Pa3 + s * (Pa4 + s * (Pa5 + s * Pa6)))));
            double q = 1 + s * (Qa1 + s * (Qa2 + s * (Qa3 + s * (Qa4 + s * (Qa5 + s * Qa6)))));
            return x >= 0 ? 1 - Erx - p / q : 1 + Erx + p / q;
        }
        double tail = a >= 28 ? 0 : Math.Exp(-a * a) * Erfcx(a);
        return x >= 0 ? tail : 2 - tail;
    }

    /// <summary>The scaled complementary error function exp(x²)·erfc(x), without overflow or underflow for x ≥ 0.</summary>
    public static double Erfcx(double x)
    {
        if (x < 1.25)
        {
            // exp(x²) stays moderate until x is very negative, where erfc(x) = 2 and the product is finite or +inf.
            return x < -26 ? double.PositiveInfinity : Math.Exp(x * x) * Erfc(x);
        }
        if (x >= 28)
        {
            // Asymptotic series; the first omitted term is below 1e-10 relative at x = 28.
            double t = 1 / (x * x);
            return 0.56418958354775628695 / x * (1 - t * (0.5 - t * (0.75 - t * 1.875)));
        }
        double s = 1 / (x * x), r, q;
        if (x < 1 / 0.35)
        {
            r = Ra0 + s * (Ra1 + s * (Ra2 + s * (Ra3 + s * (Ra4 + s * (Ra5 + s * (Ra6 + s * Ra7))))));
            q = 1 + s * (Sa1 + s * (Sa2 + s * (Sa3 + s * (Sa4 + s * (Sa5 + s * (Sa6 + s * (Sa7 + s * Sa8)))))));
        }
        else
        {
            r = Rb0 + s * (Rb1 + s * (Rb2 + s * (Rb3 + s * (Rb4 + s * (Rb5 + s * Rb6)))));
            q = 1 + s * (Sb1 + s * (Sb2 + s * (Sb3 + s * (Sb4 + s * (Sb5 + s * (Sb6 + s * Sb7))))));
        }
        return Math.Exp(-0.5625 + r / q) / x;
    }

    // fdlibm s_erf.c coefficients.
    private const double Erx = 8.45062911510467529297e-01;
    private const double Pp0 = 1.28379167095512558561e-01, Pp1 = -3.25042107247001499370e-01, Pp2 = -2.84817495755985104766e-02,
        Pp3 = -5.77027029648944159157e-03, Pp4 = -2.37630166566501626084e-05;
    private const double Qq1 = 3.97917223959155352819e-01, Qq2 = 6.50222499887672944485e-02, Qq3 = 5.08130628187576562776e-03,
        Qq4 = 1.32494738004321644526e-04, Qq5 = -3.96022827877536812320e-06;
    private const double Pa0 = -2.36211856075265944077e-03, Pa1 = 4.14856118683748331666e-01, Pa2 = -3.72207876035701323847e-01,
        Pa3 = 3.18346619901161753674e-01, Pa4 = -1.10894694282396677476e-01, Pa5 = 3.54783043256182359371e-02,
        Pa6 = -2.16637559486879084300e-03;
    private const double Qa1 = 1.06420880400844228286e-01, Qa2 = 5.40397917702171048937e-01, Qa3 = 7.18286544141962662868e-02,
        Qa4 = 1.26171219808761642112e-01, Qa5 = 1.36370839120290507362e-02, Qa6 = 1.19844998467991074170e-02;
    private const double Ra0 = -9.86494403484714822705e-03, Ra1 = -6.93858572707181764372e-01, Ra2 = -1.05586262253232909814e01,
        Ra3 = -6.23753324503260060396e01, Ra4 = -1.62396669462573470355e02, Ra5 = -1.84605092906711035994e02,
        Ra6 = -8.12874355063065934246e01, Ra7 = -9.81432934416914548592e00;
    private const double Sa1 = 1.96512716674392571292e01, Sa2 = 1.37657754143519042600e02, Sa3 = 4.34565877475229228821e02,
        Sa4 = 6.45387271733267880336e02, Sa5 = 4.29008140027567833386e02, Sa6 = 1.08635005541779435134e02,
        Sa7 = 6.57024977031928170135e00, Sa8 = -6.04244152148580987438e-02;
    private const double Rb0 = -9.86494292470009928597e-03, Rb1 = -7.99283237680523006574e-01, Rb2 = -1.77579549177547519889e01,
        Rb3 = -1.60636384855821916062e02, Rb4 = -6.37566443368389627722e02, Rb5 = -1.02509513161107724954e03,
        Rb6 = -4.83519191608651397019e02;
    private const double Sb1 = 3.03380607434824582924e01, Sb2 = 3.25792512996573918826e02, Sb3 = 1.53672958608443695994e03,
        Sb4 = 3.19985821950859553908e03, Sb5 = 2.55305040643316442583e03, Sb6 = 4.74528541206955367215e02,
        Sb7 = -2.24409524465858183362e01;
}
