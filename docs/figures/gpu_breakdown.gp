# Share of each term of the predicted energy, by size (stacked bars)
# Written by wsenergy. Data: gpu_breakdown.dat. Restyle freely, then render with:
#   gnuplot gpu_breakdown.gp      (writes gpu_breakdown.svg and gpu_breakdown.png here)
if (!exists('stem')) stem = 'gpu_breakdown'
set encoding utf8
set title 'Where the predicted energy goes: rectangle, depth 4, eagle_gpu, 201_pol (model: fitted eagle-gpu)' noenhanced
set xlabel 'target parameters, and the level the parameters land in'
set ylabel 'share of predicted energy per run (%)'
set style data histograms
set style histogram rowstacked
set style fill solid 0.9 border rgb '#FFFFFF'
set boxwidth 0.85 relative
set yrange [0:100]
set xtics rotate by -60 scale 0 font ',10'
set grid ytics lc rgb '#dddddd'
set key outside right top vertical invert noenhanced
set terminal svg size 960,600 dynamic enhanced font 'Sans,12' background rgb 'white'
set output stem.'.svg'
plot 'gpu_breakdown.dat' using 2:xtic(1) title 'fixed (run, epoch)' lc rgb '#0072B2', \
     '' using 3 title 'steps (train_step, eval_step)' lc rgb '#D55E00', \
     '' using 4 title 'layers (kappa)' lc rgb '#009E73', \
     '' using 5 title 'operations (operations, hinge)' lc rgb '#CC79A7', \
     '' using 6 title 'L1 traffic' lc rgb '#E69F00', \
     '' using 7 title 'L2 traffic' lc rgb '#56B4E9', \
     '' using 8 title 'HBM traffic' lc rgb '#000000', \
     '' using 9 title 'memory (dsbytes)' lc rgb '#F0E442'
set terminal pngcairo size 1280,800 enhanced font 'Sans,12' background rgb 'white'
set output stem.'.png'
replot
unset output
